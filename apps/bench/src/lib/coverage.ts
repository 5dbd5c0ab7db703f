import { mean } from './stats';

/** One searched question: its gold evidence ids and, per k, the ids the search returned. */
export interface SearchedQuestion {
  readonly group: string;
  readonly evidence: readonly string[];
  readonly retrieved: Readonly<Record<number, readonly string[]>>;
}

/** any@k and all@k over a set of questions. */
export interface Coverage {
  readonly group: string;
  readonly questions: number;
  /** Per k: the share of questions with at least one evidence id among the first k results. */
  readonly any: Record<string, number>;
  /** Per k: the share of questions with every evidence id among the first k results. */
  readonly all: Record<string, number>;
}

export function coverage(group: string, questions: readonly SearchedQuestion[], ks: readonly number[]): Coverage {
  const any: Record<string, number> = {};
  const all: Record<string, number> = {};
  for (const k of ks) {
    const found = questions.map((question) => {
      const retrieved = new Set(question.retrieved[k] ?? []);
      return question.evidence.filter((id) => retrieved.has(id)).length;
    });
    any[k] = mean(found.map((count) => (count > 0 ? 1 : 0)));
    all[k] = mean(found.map((count, index) => (count === questions[index]!.evidence.length ? 1 : 0)));
  }
  return { group, questions: questions.length, any, all };
}

/** Coverage per group (in the order given) and over all of them. */
export function coverageByGroup(
  questions: readonly SearchedQuestion[],
  groups: readonly string[],
  ks: readonly number[],
  total = 'all',
): Coverage[] {
  return [
    ...groups.map((group) =>
      coverage(
        group,
        questions.filter((question) => question.group === group),
        ks,
      ),
    ),
    coverage(total, questions, ks),
  ];
}
