// docs/bench/README.md is rewritten from the saved results on every run, but some of its
// subsections are measurements made by other commands (a 1M store kept on disk, an interleaved A/B
// script) and written in by hand. Rewriting must not drop them: this carries every `###` subsection
// whose heading the generator did not write over to the new text, after the generated part of its
// `##` section.

interface Section {
  /** The `## ` line, or '' for what comes before the first one. */
  readonly heading: string;
  /** The lines before the section's first `### ` heading. */
  readonly preamble: string[];
  readonly blocks: { readonly heading: string; readonly lines: string[] }[];
}

function parse(text: string): Section[] {
  const sections: Section[] = [];
  let section: Section = { heading: '', preamble: [], blocks: [] };
  sections.push(section);
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      section = { heading: line, preamble: [line], blocks: [] };
      sections.push(section);
    } else if (line.startsWith('### ')) {
      section.blocks.push({ heading: line, lines: [line] });
    } else {
      const block = section.blocks.at(-1);
      (block ? block.lines : section.preamble).push(line);
    }
  }
  return sections;
}

/**
 * A heading with its figures blanked: a generated table's title may carry counts ("1536 questions")
 * that change from one run to the next, and it is still the generator's.
 */
function shape(heading: string): string {
  return heading.replace(/\d[\d,.]*/g, '#').trim();
}

/** The lines of a block or section, without the blank lines it ends with, and one blank line after. */
function trimmed(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  return [...lines.slice(0, end), ''];
}

/**
 * `generated` with the hand-written subsections of `previous` carried over: each `###` block of
 * `previous` whose heading (figures aside) `generated` does not have goes at the end of the `##`
 * section of the same heading; a whole `##` section that `generated` lacks (its results were not
 * saved this time) is kept as it was, at the end.
 */
export function keepHandWritten(generated: string, previous: string | undefined): string {
  if (previous === undefined) return generated;
  const next = parse(generated);
  const written = new Set(next.flatMap((section) => section.blocks.map((block) => shape(block.heading))));
  const byHeading = new Map(next.map((section) => [section.heading, section]));
  const kept = new Map<string, string[][]>();
  const absent: Section[] = [];
  for (const section of parse(previous)) {
    if (section.heading === '') continue;
    if (!byHeading.has(section.heading)) {
      absent.push(section);
      continue;
    }
    const blocks = section.blocks.filter((block) => !written.has(shape(block.heading)));
    if (blocks.length > 0)
      kept.set(
        section.heading,
        blocks.map((block) => block.lines),
      );
  }
  if (kept.size === 0 && absent.length === 0) return generated;
  const out: string[] = [];
  for (const section of next) {
    const blocks = section.blocks.map((block) => block.lines);
    const extra = kept.get(section.heading) ?? [];
    if (extra.length === 0) {
      out.push(...section.preamble, ...blocks.flat());
      continue;
    }
    out.push(...trimmed([...section.preamble, ...blocks.flat()]));
    extra.forEach((lines) => out.push(...trimmed(lines)));
  }
  if (absent.length > 0) {
    const tail = trimmed(out);
    out.length = 0;
    out.push(...tail);
    for (const section of absent) out.push(...trimmed([...section.preamble, ...section.blocks.flatMap((block) => block.lines)]));
  }
  // The same ending as the generated text (a blank line after the last section).
  return `${trimmed(out).join('\n').replace(/\n+$/, '')}${/\n*$/.exec(generated)![0]}`;
}
