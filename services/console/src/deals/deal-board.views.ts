import { type DealPhase, dealPhases } from '@citydeals/contracts';
import { html, type SafeHtml } from '../web/html.ts';
import type { Language, Texts } from '../web/texts.ts';
import type { DealSummary } from './deal.views.ts';

/** A deal on the board: the list's fields, with what the card shows when deal-tracking sends it. */
export interface BoardDeal extends DealSummary {
  phaseSince?: string;
  overdue?: boolean;
}

const words = {
  nl: {
    board: 'Bord',
    list: 'Lijst',
    asBoard: 'Als bord per fase',
    asList: 'Als lijst',
    since: 'in deze fase sinds',
    overdue: 'looptijd verstreken',
    empty: 'Geen deals in deze fase.',
    deals: (n: number) => `${n} ${n === 1 ? 'deal' : 'deals'}`,
  },
  en: {
    board: 'Board',
    list: 'List',
    asBoard: 'As a board by phase',
    asList: 'As a list',
    since: 'in this phase since',
    overdue: 'term passed',
    empty: 'No deals in this phase.',
    deals: (n: number) => `${n} ${n === 1 ? 'deal' : 'deals'}`,
  },
} as const;

export const boardTexts = (lang: Language) => words[lang];

/** The switch between the two views of the deals; the current one is marked for assistive technology. */
export function dealViews(lang: Language, current: 'list' | 'board'): SafeHtml {
  const w = words[lang];
  const link = (view: 'list' | 'board', href: string, label: string) =>
    html`<a href="${href}"${current === view ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="views" aria-label="${w.board} / ${w.list}">${link('list', '/deals', w.asList)} ${link('board', '/deals/board', w.asBoard)}</nav>`;
}

/**
 * A column per phase in deal-tracking's order (empty phases too, so the board's shape never moves) and a card
 * per deal linking to its page. On a phone the columns stack; from tablet width they stand side by side.
 */
export function dealBoard(t: Texts, lang: Language, deals: readonly BoardDeal[]): SafeHtml {
  const w = words[lang];
  const since = (iso: string) =>
    new Date(iso).toLocaleDateString(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: 'Europe/Amsterdam' });
  const column = (phase: DealPhase) => {
    const cards = deals.filter((d) => d.phase === phase).sort((a, b) => a.name.localeCompare(b.name, 'nl'));
    return html`<section class="board-column phase-${phase}" aria-labelledby="column-${phase}">
<h2 id="column-${phase}">${t.phases[phase]} <span class="count">(${w.deals(cards.length)})</span></h2>
${
  cards.length === 0
    ? html`<p class="empty">${w.empty}</p>`
    : html`<ul class="cards">${cards.map(
        (d) =>
          html`<li class="card"><a href="/deals/${d.id}">${d.name}</a>${
            d.phaseSince ? html`<small>${w.since} ${since(d.phaseSince)}</small>` : ''
          }${d.overdue ? html`<small class="warn">${w.overdue}</small>` : ''}</li>`,
      )}</ul>`
}
</section>`;
  };
  return html`<div class="board" id="deal-board">${dealPhases.map(column)}</div>`;
}

/** Served after the console's own stylesheet (see static.routes.ts). */
export const boardCss = `
.views {
  display: flex;
  flex-wrap: wrap;
  gap: 1rem;
  margin-bottom: 1rem;
}
.views a[aria-current='page'] {
  font-weight: 700;
  text-decoration: none;
}
/* Phone first: the columns stack; from tablet width they stand side by side and the board scrolls. */
.board {
  display: grid;
  gap: 1rem;
  grid-template-columns: minmax(0, 1fr);
}
@media (min-width: 48rem) {
  main:has(.board) {
    max-width: none;
  }
  .board {
    grid-template-columns: repeat(7, minmax(11rem, 1fr));
    overflow-x: auto;
  }
}
.board-column {
  background: #f3f6f9;
  border-top: 4px solid var(--accent);
  padding: 0.5rem;
  min-width: 0;
}
.board-column h2 {
  font-size: 1rem;
  margin: 0 0 0.5rem;
}
.board-column .count,
.board-column .empty {
  font-weight: 400;
  color: #555;
}
.cards {
  list-style: none;
  margin: 0;
  padding: 0;
  display: grid;
  gap: 0.5rem;
}
.card {
  background: #fff;
  border: 1px solid var(--line);
  border-radius: 4px;
  padding: 0.5rem;
  overflow-wrap: anywhere;
}
.card a {
  font-weight: 600;
}
.card small {
  display: block;
  color: #555;
}
.card small.warn {
  color: var(--error);
}
.chart-link {
  display: block;
  text-decoration: none;
}
.chart-link span {
  text-decoration: underline;
}
`;
