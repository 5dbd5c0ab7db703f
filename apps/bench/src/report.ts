// Tables, target checks and charts from the results of each part.
import { fmt, percent, times, type Table } from './lib/format';
import { describeMachine, type MachineInfo } from './lib/machine';
import { ratio } from './lib/stats';
import { barPanels, groupedBars, logLineChart } from './lib/svg';
import type { AddCostResult, CallFigures } from './parts/add-cost';
import type { EndToEndResult } from './parts/locomo-e2e';
import type { HalfCoverage, RetrievalResult, SystemResult } from './parts/locomo-retrieval';
import type { ScaleResult } from './parts/scale';

/** What a results file holds. */
export interface Saved<T> {
  readonly part: string;
  readonly machine: MachineInfo;
  readonly command: string;
  readonly seconds: number;
  readonly result: T;
}

const ms = (value: number) => fmt(value, value < 1 ? 3 : 2);
const sumOf = (breakdown: { httpClientMs: number; vectorStoreMs: number; historyStoreMs: number; coreMs: number }) =>
  breakdown.httpClientMs + breakdown.vectorStoreMs + breakdown.historyStoreMs + breakdown.coreMs;

export function addCostTables(saved: Saved<AddCostResult>): Table[] {
  const { result } = saved;
  const mem = result.add['mem']!;
  const base = result.add[result.baselineKey]!;
  const memSearch = result.search['mem']!;
  const baseSearch = result.search[result.baselineKey]!;
  const turns = result.conversation.turns;
  const row = (name: string, a: number, b: number, digits = 2, target = '') => [
    name,
    fmt(a, digits),
    fmt(b, digits),
    times(ratio(a, b)),
    target,
  ];
  const headline: Table = {
    title: `mem vs mem0ai 3.3.1: cost per call on LOCOMO conversation 0 (${result.conversation.adds} adds, ${turns} turns; Mem0's protocol)`,
    headers: ['per call', 'mem', 'mem0ai', 'mem ÷ mem0ai', 'target'],
    rows: [
      row('add: LLM calls (mean)', mem.llmCalls.mean, base.llmCalls.mean, 2, '1 call'),
      row('add: prompt tokens (median)', mem.promptTokens.median, base.promptTokens.median, 0, '≤ 0.25×'),
      row('add: completion tokens (median)', mem.completionTokens.median, base.completionTokens.median, 0),
      row('add: embedding calls (mean)', mem.embeddingCalls.mean, base.embeddingCalls.mean),
      row('add: pipeline ms (median)', mem.pipelineMsMedianOfRuns, base.pipelineMsMedianOfRuns, 2, '< 5 ms'),
      row('add: pipeline ms (p95)', mem.pipelineMs.p95, base.pipelineMs.p95),
      row('per turn: prompt tokens (total ÷ turns)', mem.promptTokens.total / turns, base.promptTokens.total / turns, 0, '≤ 0.25×'),
      row('search: LLM calls (mean)', memSearch.llmCalls.mean, baseSearch.llmCalls.mean),
      row('search: embedding calls (mean)', memSearch.embeddingCalls.mean, baseSearch.embeddingCalls.mean),
      row('search: pipeline ms (median)', memSearch.pipelineMsMedianOfRuns, baseSearch.pipelineMsMedianOfRuns, 2, '> 100× faster'),
      row('search: pipeline ms (p95)', memSearch.pipelineMs.p95, baseSearch.pipelineMs.p95),
    ],
    notes: [
      `Baseline: ${result.mem0Baseline}`,
      `Medians over ${mem.runs} run(s) × ${mem.calls} adds (search: ${memSearch.calls} searches per run, 30 results, questions of categories 1–4 asked of both speakers). Local server latency: ${result.latencyMs} ms.`,
      'Pipeline ms = wall time minus the time spent inside the local server; the SDK and the HTTP round trips on 127.0.0.1 count as pipeline.',
      ...result.notes,
    ],
  };
  const builds: Table = {
    title: 'Per build and kind (totals for one ingest of the conversation)',
    headers: [
      'system',
      'adds',
      'LLM calls',
      'prompt tokens',
      'completion tokens',
      'add pipeline ms (median)',
      'search pipeline ms (median)',
    ],
    rows: Object.entries(result.add).map(([key, figures]) => [
      key,
      fmt(figures.calls, 0),
      fmt(figures.llmCalls.mean * figures.calls, 0),
      fmt(figures.promptTokens.total, 0),
      fmt(figures.completionTokens.total, 0),
      ms(figures.pipelineMsMedianOfRuns),
      ms(result.search[key]?.pipelineMsMedianOfRuns ?? Number.NaN),
    ]),
  };
  const tables = [headline, builds];
  const breakdown = (figures: CallFigures | undefined, label: string) =>
    figures?.breakdown
      ? [
          label,
          ms(figures.breakdown.httpClientMs),
          ms(figures.breakdown.vectorStoreMs),
          ms(figures.breakdown.historyStoreMs),
          ms(figures.breakdown.coreMs),
          ms(sumOf(figures.breakdown)),
        ]
      : undefined;
  const sizedRows = result.sized['mem']!.flatMap((entry) =>
    (['add', 'search'] as const).flatMap((kind) => {
      const figures = entry[kind];
      return figures?.breakdown
        ? [
            [
              `${kind} at ${entry.size.toLocaleString('en-US')}`,
              ms(figures.breakdown.httpClientMs),
              ms(figures.breakdown.vectorStoreMs),
              ms(figures.breakdown.historyStoreMs),
              ms(figures.breakdown.coreMs),
              ms(sumOf(figures.breakdown)),
            ],
          ]
        : [];
    }),
  );
  const breakdownRows = [breakdown(mem, 'add (conversation)'), breakdown(memSearch, 'search (conversation)'), ...sizedRows].filter(
    (entry): entry is string[] => entry !== undefined,
  );
  if (breakdownRows.length > 0) {
    tables.push({
      title: "Where mem's pipeline time goes (mean ms per call)",
      headers: ['call', 'HTTP exchange (client side)', 'vector store', 'history store', 'core + SDK', 'total'],
      rows: breakdownRows,
      notes: [
        'Measured in a separate pass with timers on (mean pipeline ms of that pass in the last column; the timers add a little). HTTP exchange = time from sending the request to having the whole response, minus the time inside the server. Core + SDK = the rest: the pipeline, validation, prompt building, and the SDK building requests and parsing responses.',
      ],
    });
  }
  const sizes = [...new Set([...result.sized['mem']!, ...(result.sized['mem0ai'] ?? [])].map((entry) => entry.size))].sort((a, b) => a - b);
  tables.push({
    title: 'Pipeline ms per call against store size (synthetic memories over 100 scopes; adds and searches in one scope)',
    headers: ['store size', 'scope size', 'mem add', 'mem0ai add', 'mem search', 'mem0ai search', 'search: mem faster by'],
    rows: sizes.map((size) => {
      const a = result.sized['mem']!.find((entry) => entry.size === size);
      const b = result.sized['mem0ai']?.find((entry) => entry.size === size);
      return [
        size.toLocaleString('en-US'),
        (a ?? b)!.scopeSize.toLocaleString('en-US'),
        a?.add ? `${ms(a.add.pipelineMs.median)} (p95 ${ms(a.add.pipelineMs.p95)})` : '–',
        b?.add ? `${ms(b.add.pipelineMs.median)}` : 'not run',
        a?.search ? `${ms(a.search.pipelineMs.median)} (p95 ${ms(a.search.pipelineMs.p95)})` : '–',
        b?.search ? `${ms(b.search.pipelineMs.median)}` : 'not run',
        a?.search && b?.search ? times(ratio(b.search.pipelineMs.median, a.search.pipelineMs.median)) : '–',
      ];
    }),
    notes: [
      'mem0ai is measured at the sizes given by --mem0-sizes: its in-process store reads and decodes every stored vector on each add and search.',
    ],
  });
  return tables;
}

/** Each published target with its measured value and whether it is met. */
export function addCostTargets(result: AddCostResult): Table {
  const mem = result.add['mem']!;
  const base = result.add[result.baselineKey]!;
  const memSearch = result.search['mem']!;
  const baseSearch = result.search[result.baselineKey]!;
  const worstAdd = Math.max(mem.pipelineMsMedianOfRuns, ...result.sized['mem']!.map((entry) => entry.add?.pipelineMs.median ?? 0));
  const speedups = [
    ratio(baseSearch.pipelineMsMedianOfRuns, memSearch.pipelineMsMedianOfRuns),
    ...result.sized['mem']!.flatMap((entry) => {
      const other = result.sized['mem0ai']?.find((candidate) => candidate.size === entry.size);
      return other?.search && entry.search ? [ratio(other.search.pipelineMs.median, entry.search.pipelineMs.median)] : [];
    }),
  ];
  const tokenRatio = ratio(mem.promptTokens.total, base.promptTokens.total);
  const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
  return {
    title: 'Targets',
    headers: ['target', 'measured', 'status'],
    rows: [
      ['1 LLM call per add', fmt(mem.llmCalls.mean, 2), check(mem.llmCalls.mean <= 1.0001)],
      ["≤ 1/4 of mem0ai's prompt tokens per added turn", times(tokenRatio), check(tokenRatio <= 0.25)],
      ['add pipeline < 5 ms at every store size up to 100k (median)', `worst ${ms(worstAdd)} ms`, check(worstAdd < 5)],
      [
        'search > 100× faster than mem0ai at every N it reached',
        `lowest ${times(Math.min(...speedups))}`,
        check(Math.min(...speedups) > 100),
      ],
    ],
  };
}

export function scaleTables(saved: Saved<ScaleResult>): Table[] {
  const { result } = saved;
  const pair = (summary: { median: number; p95: number }) => `${ms(summary.median)} / ${ms(summary.p95)}`;
  return [
    {
      title: `Search and add at scale: SqliteVectorStore, one scope per call (ms p50 / p95; embedding excluded)`,
      headers: [
        'memories',
        'dims',
        'scopes',
        'per scope',
        'insert/s',
        'disk MB',
        'peak RSS MB',
        'open → 1st query',
        '2nd query',
        'vector cache',
        'keyword index',
        'approximate',
        'vectors',
        'store.query',
        'with filter',
        'Memory.search',
        'with filter',
        'keyword leg',
        'scan bound',
        'query ÷ bound',
        'scan bound (filter)',
        'recall@10',
        'add pipeline',
      ],
      rows: result.rows.map((row) => [
        row.size.toLocaleString('en-US'),
        String(row.dimensions),
        row.scopes.toLocaleString('en-US'),
        row.scopeSize.toLocaleString('en-US'),
        fmt(row.insert.recordsPerSecond, 0),
        fmt(row.diskBytes / 2 ** 20, 0),
        fmt(row.peakRssMiB, 0),
        row.openToFirstQueryMs === undefined ? '–' : ms(row.openToFirstQueryMs),
        row.secondQueryMs === undefined ? '–' : ms(row.secondQueryMs),
        row.vectorCache === undefined ? '–' : row.vectorCache ? 'on' : 'off',
        row.keywordIndex === undefined ? '–' : row.keywordIndex ? 'on' : 'off',
        row.approximate
          ? row.approximateBuildMs === undefined
            ? 'on'
            : `on, built in ${fmt(row.approximateBuildMs / 1000, row.approximateBuildMs < 100_000 ? 1 : 0)} s`
          : 'off',
        row.vectors ?? 'uniform',
        pair(row.query),
        pair(row.queryFiltered),
        pair(row.search),
        pair(row.searchFiltered),
        row.keyword ? pair(row.keyword) : '–',
        ms(row.scanLowerBound.median),
        `${fmt(row.query.median / row.scanLowerBound.median, 1)}×`,
        ms(row.scanLowerBoundFiltered.median),
        row.recall ? fmt(row.recall.at10, 3) : '–',
        row.add ? pair(row.add) : '–',
      ]),
      notes: [
        `Queries per kind, row by row: ${result.rows.map((row) => row.queries ?? result.queries).join(', ')}. query ÷ bound: store.query p50 over the scan bound p50.`,
        'store.query: vector search in one scope, topK 10. Memory.search: the public call (vector + keyword search fused), limit 10, with a precomputed query vector. Keyword leg: store.keywordQuery alone as Memory.search asks it (topK 40, the not-expired filter), same query texts (– in rows measured before the column existed).',
        "Filter: metadata category = one of 12 values (about 1/12 of the scope). Scan bound: one pass of cosine similarity over the scope's vectors (or the ones passing the filter) in a tight JavaScript loop (the vector cache's WebAssembly SIMD scan can beat it).",
        "vector cache: whether the measured stores kept the scope vector cache (on by default; off ranks inside SQLite as before it; – in rows measured before the column existed). With it on, a scope's first query ranks in SQLite and its second (2nd query: the one right after open → 1st query) reads the scope's vectors into the cache; a filter on a metadata key (with filter) still ranks inside SQLite.",
        `Texts: ${result.rows[0]?.texts ? `${result.rows[0].texts.source}, median ${fmt(result.rows[0].texts.medianChars, 0)} characters (p95 ${fmt(result.rows[0].texts.p95Chars, 0)})` : 'one-line synthetic sentences'}; query texts for the keyword leg: ${result.rows[0]?.texts?.source.startsWith('LongMemEval') ? "LongMemEval's questions" : 'short phrases'}.`,
        "recall@10: store.query in scope 0 against an exact ranking of its vectors in JavaScript, over 20 queries (100 with approximate on; – in rows measured before the column existed); an exact search must give 1. approximate: SqliteVectorStore's approximate option (scopes of at least approximateMinScope memories, 50,000 by default, searched through an HNSW index with int8 vectors, candidates ranked exactly); its index is built in a worker thread from the 2nd query on, and the measured queries wait for it (the time after the 2nd query's answer until it is built is in the column; searches rank exactly meanwhile). vectors: uniform (on the unit sphere, every pair nearly orthogonal: the worst case of an approximate index) or clustered (topics in a low-dimensional latent space, like sentence embeddings).",
        "open → 1st query: ms from opening the filled file (new SqliteVectorStore, ensureCollection) to the first store.query answer, the file in the OS page cache (– in rows measured before the column existed). Peak RSS: the process's maximum resident memory while filling and searching, before it reads scope 0 back for the scan bound and recall (rows before 2026-12-07 evening also held scope 0's vectors while filling).",
        'add pipeline: Memory.add (reconcile, SqliteVectorStore + SqliteHistoryStore in the same file) of two turns whose extraction adds two facts, in one scope, wall time minus the time inside the in-process LLM and embedder.',
        'Goals: scoped query p95 < 2 ms at 10k and < 20 ms at 1M; Memory.search p95 < 10 ms at 10k in one scope with real-length texts; add pipeline median < 5 ms at 100k and < 10 ms at 1M.',
      ],
    },
  ];
}

/** One row of the headline: a system's any@k / all@k on one LOCOMO half, as in issue 14's table. */
function headlineRow(system: SystemResult, half: HalfCoverage['half']): string[] {
  const coverage = system.locomo?.find((entry) => entry.half === half);
  const overall = coverage?.rows[coverage.rows.length - 1];
  const categoryOne = coverage?.rows.find((row) => row.group === '1');
  if (!overall) return [system.name, half, ...new Array<string>(6).fill('–')];
  return [
    system.name,
    half,
    fmt(overall.any['5'], 3),
    fmt(overall.any['10'], 3),
    fmt(overall.all['10'], 3),
    fmt(overall.any['30'], 3),
    fmt(overall.all['30'], 3),
    fmt(categoryOne?.all['10'], 3),
  ];
}

export function retrievalTables(saved: Saved<RetrievalResult>): Table[] {
  const { result } = saved;
  const ran = result.systems.filter((system) => !system.skipped);
  const tables: Table[] = [
    {
      title: `LOCOMO retrieval, offline (${result.locomo.questions} questions of categories 1–4 with evidence; ${result.locomo.turns} turns, each one memory with infer: false; one scope per conversation)`,
      headers: ['system', 'half', 'any@5', 'any@10', 'all@10', 'any@30', 'all@30', 'cat 1 all@10'],
      rows: ran.flatMap((system) => (['tuning', 'held-out', 'all'] as const).map((half) => headlineRow(system, half))),
      notes: [
        'any@k: share of questions with at least one evidence turn in the top k; all@k: share with every evidence turn in the top k.',
        `Halves: every weight and setting was chosen on the tuning half (conversations ${result.locomo.tuning.join(', ')}); the held-out half (the others) was not looked at while tuning.`,
        ...(result.locomo.half
          ? [`Only the questions of the ${result.locomo.half} half were searched (--locomo-half): "all" is that half.`]
          : []),
        ...(result.ranking
          ? [`Ranking weights set for the run (--ranking): ${JSON.stringify(result.ranking)}; mem's defaults otherwise.`]
          : []),
        ...ran.map((system) => `${system.name}: ${system.description}.`),
        ...result.systems.filter((system) => system.skipped).map((system) => `${system.name}: not run, ${system.skipped}.`),
      ],
    },
    {
      title: `LOCOMO retrieval by category (${result.locomo.half ? `${result.locomo.half} half only` : 'both halves'})`,
      headers: ['system', 'category', 'questions', ...result.ks.map((k) => `any@${k}`), ...result.ks.map((k) => `all@${k}`)],
      rows: ran.flatMap((system) =>
        (system.locomo?.find((entry) => entry.half === 'all')?.rows ?? []).map((row) => [
          system.name,
          row.group,
          String(row.questions),
          ...result.ks.map((k) => fmt(row.any[k], 3)),
          ...result.ks.map((k) => fmt(row.all[k], 3)),
        ]),
      ),
      notes: [
        'Categories by number: the LoCoMo paper and later tables (Mem0, Zep, ...) disagree on which number is multi-hop, temporal, open-domain or single-hop, so none is named here. Category 5 (adversarial) has no evidence to retrieve and is left out.',
      ],
    },
    {
      title: 'Cost of retrieval (LOCOMO)',
      headers: ['system', 'ingest s', 'add ms per turn', 'search p50 ms', 'search p95 ms', 'searches'],
      rows: ran
        .filter((system) => system.searchMs)
        .map((system) => [
          system.name,
          fmt(system.ingestSeconds, 1),
          fmt(((system.ingestSeconds ?? Number.NaN) * 1000) / result.locomo.turns, 2),
          fmt(system.searchMs!.median, 2),
          fmt(system.searchMs!.p95, 2),
          String(system.searchMs!.n),
        ]),
      notes: ['Wall time of Memory.add per turn and of Memory.search per call (query embedding included), on the machine named above.'],
    },
  ];
  const lme = result.longMemEval;
  if (lme) {
    tables.push({
      title: `LongMemEval oracle, pooled turn-level recall (${lme.questions} questions; their ${lme.sessions} evidence sessions, ${lme.turns} turns, in ONE scope)`,
      headers: ['system', 'question type', 'questions', ...result.ks.map((k) => `any@${k}`), ...result.ks.map((k) => `all@${k}`)],
      rows: ran.flatMap((system) =>
        (system.longMemEval ?? []).map((row) => [
          system.name,
          row.group,
          String(row.questions),
          ...result.ks.map((k) => fmt(row.any[k], 3)),
          ...result.ks.map((k) => fmt(row.all[k], 3)),
        ]),
      ),
      notes: [
        `Pooling: every session of every question is stored once, all in one scope, so each question searches ${lme.turns} turns instead of its own 1–6 sessions. Evidence = turns marked has_answer (${lme.evidenceTurns} in all); questions without any are left out.`,
        'One search per question with the largest k; any@k / all@k read its first k results.',
      ],
    });
  }
  return tables;
}

export function endToEndTables(saved: Saved<EndToEndResult>): Table[] {
  const { result } = saved;
  return [
    {
      title: `LOCOMO end to end with mem (extraction ${result.models.extraction}, answers ${result.models.answer}, judge ${result.models.judge}, ${result.perSpeaker} memories per speaker)`,
      headers: ['category', 'questions', 'J', 'F1', 'BLEU-1', 'J (audit)', 'F1 (audit)', 'BLEU-1 (audit)', 'context tokens'],
      rows: result.rows.map((row) => [
        row.category,
        String(row.questions),
        percent(row.j),
        percent(row.f1),
        percent(row.bleu1),
        percent(row.jCorrected),
        percent(row.f1Corrected),
        percent(row.bleu1Corrected),
        fmt(row.contextTokens, 0),
      ]),
      notes: [
        `Stored memory tokens per conversation: ${result.storedMemoryTokensPerConversation.map((tokens) => tokens.toLocaleString('en-US')).join(', ')} (memories: ${result.memoriesPerConversation.join(', ')}).`,
        `Extraction spent ${result.addUsage.llmCalls} LLM calls, ${result.addUsage.promptTokens.toLocaleString('en-US')} prompt and ${result.addUsage.completionTokens.toLocaleString('en-US')} completion tokens.`,
      ],
    },
  ];
}

export function machineLine(saved: Saved<unknown>): string {
  return `Measured ${describeMachine(saved.machine)}. This part took ${Math.round(saved.seconds)} s of \`${saved.command}\`.`;
}

export function addCostCharts(result: AddCostResult): Record<string, string> {
  const mem = result.add['mem']!;
  const base = result.add[result.baselineKey]!;
  const memSearch = result.search['mem']!;
  const baseSearch = result.search[result.baselineKey]!;
  const series = ['mem', 'mem0ai'];
  const panel = (title: string, a: number, b: number) => ({
    title,
    bars: [
      { label: 'mem', value: a },
      { label: 'mem0ai', value: b },
    ],
    note: `mem = ${times(ratio(a, b))} mem0ai`,
  });
  const charts: Record<string, string> = {
    'add-cost.svg': barPanels(
      'Cost per add and per search: mem vs mem0ai 3.3.1 (lower is better)',
      `LOCOMO conversation 0, Mem0's protocol, same local OpenAI-compatible server; medians. Baseline: mem0ai ${result.baselineKey.endsWith('esm') ? 'ESM' : 'CommonJS'} build.`,
      [
        panel('Prompt tokens per add', mem.promptTokens.median, base.promptTokens.median),
        panel('Pipeline ms per add', mem.pipelineMsMedianOfRuns, base.pipelineMsMedianOfRuns),
        panel('Pipeline ms per search', memSearch.pipelineMsMedianOfRuns, baseSearch.pipelineMsMedianOfRuns),
        panel('Embedding calls per add', mem.embeddingCalls.mean, base.embeddingCalls.mean),
      ],
      series,
    ),
  };
  const line = (key: string, kind: 'add' | 'search') =>
    (result.sized[key] ?? []).filter((entry) => entry[kind]).map((entry) => ({ x: entry.size, y: entry[kind]!.pipelineMs.median }));
  charts['overhead-vs-store-size.svg'] = logLineChart({
    title: 'Pipeline ms per call against store size (lower is better)',
    subtitle: 'Median; synthetic 1536-dim memories over 100 scopes; the local server answers with zero latency.',
    xLabel: 'memories in the store (all scopes)',
    yLabel: 'pipeline ms per call (log)',
    series: [
      { name: 'mem add', points: line('mem', 'add'), color: 0 },
      { name: 'mem search', points: line('mem', 'search'), dashed: true, color: 0 },
      { name: 'mem0ai add', points: line('mem0ai', 'add'), color: 1 },
      { name: 'mem0ai search', points: line('mem0ai', 'search'), dashed: true, color: 1 },
    ],
    references: [{ y: 5, label: 'add target: 5 ms' }],
  });
  return charts;
}

export function scaleCharts(result: ScaleResult): Record<string, string> {
  // One line per measure over the rows of the first row's shape (dimensions and scopes).
  const first = result.rows[0];
  const rows = result.rows.filter((row) => row.dimensions === first?.dimensions && row.scopes === first?.scopes);
  const points = (pick: (row: ScaleResult['rows'][number]) => number) => rows.map((row) => ({ x: row.size, y: pick(row) }));
  return {
    'scale-latency.svg': logLineChart({
      title: 'Search latency at scale: SqliteVectorStore (lower is better)',
      subtitle: `${first?.dimensions ?? result.dimensions}-dim vectors, ${first?.scopes ?? result.scopes} scopes, one scope per query, embedding excluded; p95 unless noted.`,
      xLabel: 'memories in the store (all scopes)',
      yLabel: 'ms per query (log)',
      series: [
        { name: 'store.query p95', points: points((row) => row.query.p95) },
        { name: 'store.query + filter p95', points: points((row) => row.queryFiltered.p95) },
        { name: 'Memory.search p95', points: points((row) => row.search.p95) },
        { name: 'scan bound (p50)', points: points((row) => row.scanLowerBound.median), dashed: true },
      ],
      references: [{ y: 2, label: 'goal at 10k: 2 ms' }],
    }),
  };
}

export function retrievalCharts(result: RetrievalResult): Record<string, string> {
  const ran = result.systems.filter((system) => system.locomo);
  // The held-out half, or what was searched when a run searched only the tuning half (--locomo-half).
  const held = (system: SystemResult) =>
    (system.locomo!.find((entry) => entry.half === 'held-out') ?? system.locomo!.find((entry) => entry.half === 'all')!).rows;
  const groups = held(ran[0]!).map((row) => (row.group.startsWith('all') ? 'all' : `cat ${row.group}`));
  return {
    'locomo-retrieval.svg': groupedBars({
      title: `LOCOMO retrieval, offline, ${result.locomo.half === 'tuning' ? 'tuning' : 'held-out'} half: any evidence turn in the top 10`,
      subtitle: `${result.locomo.turns} turns stored as memories (infer: false); conversations ${result.locomo.tuning.join(', ')} chose the weights; higher is better.`,
      groups,
      series: ran.map((system) => ({ name: system.name, values: held(system).map((row) => row.any['10']!) })),
      yLabel: 'any@10',
    }),
  };
}
