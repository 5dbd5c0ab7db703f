import type { Relation } from './browser-api';
import { formatDate, h, svg } from './browser-dom';

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = 60;

interface Point {
  x: number;
  y: number;
}

/**
 * Places the entities of some relations in rings around a centre (the first seed, else the entity
 * with the most relations): its neighbours on the first ring, theirs on the second, and so on, on
 * ellipses that fit the wide picture. The same graph always gets the same picture.
 */
export function layoutGraph(names: readonly string[], relations: readonly Relation[], seeds: ReadonlySet<string>): Map<string, Point> {
  const neighbours = new Map(names.map((name) => [name, new Set<string>()]));
  for (const relation of relations) {
    neighbours.get(relation.source)!.add(relation.target);
    neighbours.get(relation.target)!.add(relation.source);
  }
  const byDegree = [...names].sort((a, b) => neighbours.get(b)!.size - neighbours.get(a)!.size || a.localeCompare(b));
  const centre = names.find((name) => seeds.has(name)) ?? byDegree[0]!;
  const ring = new Map<string, number>([[centre, 0]]);
  const rings: string[][] = [[centre]];
  // Breadth first from the centre; entities not connected to it start a ring of their own further out.
  for (const root of [centre, ...byDegree]) {
    if (!ring.has(root)) {
      ring.set(root, rings.length);
      rings.push([root]);
    }
    const queue = [root];
    while (queue.length > 0) {
      const name = queue.shift()!;
      for (const next of [...neighbours.get(name)!].sort()) {
        if (ring.has(next)) continue;
        const level = ring.get(name)! + 1;
        ring.set(next, level);
        (rings[level] ??= []).push(next);
        queue.push(next);
      }
    }
  }
  const positions = new Map<string, Point>();
  const levels = rings.length - 1;
  const stepY = levels === 0 ? 0 : Math.min(130, (HEIGHT / 2 - 40) / levels);
  const stepX = levels === 0 ? 0 : Math.min(210, (WIDTH / 2 - MARGIN - 20) / levels);
  rings.forEach((members, level) => {
    members.forEach((name, index) => {
      // Odd rings are turned half a step, so their entities sit between those of the ring inside.
      const angle = (2 * Math.PI * (index + (level % 2) * 0.5)) / members.length - Math.PI / 2;
      positions.set(name, { x: WIDTH / 2 + Math.cos(angle) * stepX * level, y: HEIGHT / 2 + Math.sin(angle) * stepY * level });
    });
  });
  return positions;
}

/**
 * The relations as a picture: entities as nodes (buttons: click or Enter shows their relations),
 * relations as labelled arrows; a closed relation is dashed and its label says until when it held.
 */
export function drawGraph(relations: readonly Relation[], seeds: ReadonlySet<string>, onPick: (name: string) => void): SVGSVGElement {
  const names = [...new Set(relations.flatMap((relation) => [relation.source, relation.target]))].sort();
  const positions = layoutGraph(names, relations, seeds);
  const picture = svg('svg', {
    class: 'graph',
    attrs: {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'group',
      'aria-label': `Graph of ${names.length} entities and ${relations.length} relations`,
    },
  });
  picture.appendChild(
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          attrs: {
            id: 'arrow',
            viewBox: '0 0 10 10',
            refX: '10',
            refY: '5',
            markerWidth: '7',
            markerHeight: '7',
            orient: 'auto-start-reverse',
          },
        },
        svg('path', { attrs: { d: 'M 0 0 L 10 5 L 0 10 z' } }),
      ),
    ),
  );
  // Relations between the same two entities are fanned out so their labels do not overlap.
  const seen = new Map<string, number>();
  for (const relation of relations) {
    const p = positions.get(relation.source)!;
    const q = positions.get(relation.target)!;
    const pair = [relation.source, relation.target].sort().join('\u0000');
    const nth = seen.get(pair) ?? 0;
    seen.set(pair, nth + 1);
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    const length = Math.max(Math.hypot(dx, dy), 1);
    const shrink = 24 / length;
    const bend = (nth % 2 === 0 ? 1 : -1) * Math.ceil(nth / 2) * 26;
    const normal = { x: -dy / length, y: dx / length };
    const middle = { x: (p.x + q.x) / 2 + normal.x * bend, y: (p.y + q.y) / 2 + normal.y * bend };
    const start = { x: p.x + dx * shrink, y: p.y + dy * shrink };
    const end = { x: q.x - dx * shrink, y: q.y - dy * shrink };
    const closed = relation.validTo !== null;
    const label = closed ? `${relation.relation} (until ${formatDate(relation.validTo).slice(0, 10)})` : relation.relation;
    picture.appendChild(
      svg(
        'g',
        { class: closed ? 'edge closed' : 'edge' },
        svg(
          'title',
          {},
          `${relation.source} ${relation.relation} ${relation.target}: ${closed ? `held from ${formatDate(relation.validFrom)} until ${formatDate(relation.validTo)}` : `since ${formatDate(relation.validFrom)}`}`,
        ),
        svg('path', { attrs: { d: `M ${start.x} ${start.y} Q ${middle.x} ${middle.y} ${end.x} ${end.y}`, 'marker-end': 'url(#arrow)' } }),
        svg(
          'text',
          { attrs: { x: (start.x + 2 * middle.x + end.x) / 4, y: (start.y + 2 * middle.y + end.y) / 4 - 4, 'text-anchor': 'middle' } },
          label,
        ),
      ),
    );
  }
  for (const name of names) {
    const point = positions.get(name)!;
    const pick = () => onPick(name);
    picture.appendChild(
      svg(
        'g',
        {
          class: seeds.has(name) ? 'node seed' : 'node',
          attrs: {
            tabindex: 0,
            role: 'button',
            'aria-label': `${name}: show its relations`,
            'data-entity': name,
            transform: `translate(${point.x} ${point.y})`,
          },
          on: {
            click: pick,
            keydown: (event) => {
              const key = (event as KeyboardEvent).key;
              if (key === 'Enter' || key === ' ') {
                event.preventDefault();
                pick();
              }
            },
          },
        },
        svg('circle', { attrs: { r: 20 } }),
        svg('text', { attrs: { y: 36, 'text-anchor': 'middle' } }, name),
      ),
    );
  }
  return picture;
}

/** The same relations as a table: what a screen reader or a narrow screen reads. */
export function relationTable(relations: readonly Relation[]): HTMLTableElement {
  return h(
    'table',
    { class: 'relations' },
    h('caption', {}, 'Relations'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { attrs: { scope: 'col' } }, 'source'),
        h('th', { attrs: { scope: 'col' } }, 'relation'),
        h('th', { attrs: { scope: 'col' } }, 'target'),
        h('th', { attrs: { scope: 'col' } }, 'valid from'),
        h('th', { attrs: { scope: 'col' } }, 'valid to'),
      ),
    ),
    h(
      'tbody',
      {},
      ...relations.map((relation) =>
        h(
          'tr',
          { class: relation.validTo === null ? 'open' : 'closed' },
          h('td', {}, relation.source),
          h('td', {}, relation.relation),
          h('td', {}, relation.target),
          h('td', {}, formatDate(relation.validFrom)),
          h('td', {}, relation.validTo === null ? 'still true' : formatDate(relation.validTo)),
        ),
      ),
    ),
  );
}
