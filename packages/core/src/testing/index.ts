export { HashEmbedder } from './hash-embedder';
export { ScriptedLLM, type ScriptStep, type ScriptedRequest } from './scripted-llm';
