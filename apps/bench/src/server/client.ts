import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KindStats, ServerStats } from './fake-openai';

/** The local server running in a child process, and how to read its counters. */
export class BenchServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts `main.ts` in a child process (tsx's loader is inherited from this process). */
  static async start(options: { latencyMs?: number } = {}): Promise<BenchServer> {
    const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
    const loaderGiven = process.execArgv.some((argument) => argument.includes('tsx'));
    const child = fork(entry, ['--latency-ms', String(options.latencyMs ?? 0)], {
      execArgv: loaderGiven ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { url: string }).url));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the bench server exited with code ${code} before listening`)));
    });
    return new BenchServer(url, child);
  }

  /** Base URL for OpenAI clients (with `/v1`). */
  get baseURL(): string {
    return `${this.url}/v1`;
  }

  async stats(): Promise<ServerStats> {
    const response = await fetch(`${this.url}/_stats`);
    return (await response.json()) as ServerStats;
  }

  async reset(): Promise<void> {
    await fetch(`${this.url}/_reset`, { method: 'POST' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** What happened between two snapshots, summed over the request kinds. */
export interface StatsDelta {
  readonly llmCalls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly embeddingCalls: number;
  readonly embeddingInputs: number;
  readonly embeddingTokens: number;
  readonly serverMs: number;
  readonly byKind: Record<string, KindStats>;
}

export function statsDelta(before: ServerStats, after: ServerStats): StatsDelta {
  const byKind: Record<string, KindStats> = {};
  let llmCalls = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let embeddingCalls = 0;
  let embeddingInputs = 0;
  let embeddingTokens = 0;
  for (const [kind, stats] of Object.entries(after.kinds)) {
    const base = before.kinds[kind] ?? { calls: 0, promptTokens: 0, completionTokens: 0, inputs: 0, serverMs: 0 };
    const delta = {
      calls: stats.calls - base.calls,
      promptTokens: stats.promptTokens - base.promptTokens,
      completionTokens: stats.completionTokens - base.completionTokens,
      inputs: stats.inputs - base.inputs,
      serverMs: stats.serverMs - base.serverMs,
    };
    if (delta.calls === 0) continue;
    byKind[kind] = delta;
    if (kind === 'embeddings') {
      embeddingCalls += delta.calls;
      embeddingInputs += delta.inputs;
      embeddingTokens += delta.promptTokens;
    } else {
      llmCalls += delta.calls;
      promptTokens += delta.promptTokens;
      completionTokens += delta.completionTokens;
    }
  }
  return {
    llmCalls,
    promptTokens,
    completionTokens,
    embeddingCalls,
    embeddingInputs,
    embeddingTokens,
    serverMs: after.totalServerMs - before.totalServerMs,
    byKind,
  };
}
