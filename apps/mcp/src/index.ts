export { createMemMcpServer, checkUserScope, SERVER_INFO, type MemMcpServerOptions } from './mcp-server';
export { startMemHttpServer, DEFAULT_HTTP_PORT, MCP_PATH, type MemHttpServer, type MemHttpServerOptions } from './http-server';
export { createMemoryFromEnvironment, type ConfiguredMemory } from './config';
export { resolveCliSettings, USAGE, type CliSettings } from './cli-settings';
export { MEM_TOOLS, SERVER_INSTRUCTIONS, type MemTool, type ToolContext } from './tools';
