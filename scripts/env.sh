# Sourced by scripts/run.sh and .ci/run: the environment every install, build and test needs here.
# node-gyp builds (better-sqlite3) use Node's own headers instead of downloading them.
export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
# onnxruntime-node's postinstall would fetch CUDA providers from the internet; the CPU runtime is bundled.
export ONNXRUNTIME_NODE_INSTALL=skip
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 MEM0_TELEMETRY=false
