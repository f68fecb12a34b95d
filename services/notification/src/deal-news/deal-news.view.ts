import type { DealPhase, Language, LessonKind } from '@citydeals/contracts';
import type { DealNews } from './deal-news.rules.ts';

/** One change as the templates show it, its words already in the mail's language. */
export type DealNewsItemView =
  | { kind: 'phase_changed'; from: string; to: string }
  | { kind: 'result'; title: string }
  | { kind: 'lesson'; lessonKind: string; text: string };

export interface DealNewsView {
  name: string;
  own: boolean;
  changes: DealNewsItemView[];
}

const phaseLabels: Record<Language, Record<DealPhase, string>> = {
  nl: {
    preparing: 'in verkenning',
    signed: 'ondertekend',
    building: 'coalitie opbouwen',
    delivering: 'resultaten boeken',
    securing: 'borgen en opschalen',
    completed: 'afgerond',
    discontinued: 'gestopt',
  },
  en: {
    preparing: 'exploring',
    signed: 'signed',
    building: 'building the coalition',
    delivering: 'delivering results',
    securing: 'securing and scaling up',
    completed: 'completed',
    discontinued: 'discontinued',
  },
};

const lessonLabels: Record<Language, Record<LessonKind, string>> = {
  nl: { success: 'succes', setback: 'tegenvaller' },
  en: { success: 'success', setback: 'setback' },
};

// A result or lesson of a deal whose name has not arrived (yet) is still news.
const unnamedDeal: Record<Language, string> = { nl: 'Een deal', en: 'A deal' };

/** The deal news in the words of the mail's language (templates/<language>/deal_news.*.eta). */
export function dealNewsView(language: Language, news: readonly DealNews[]): DealNewsView[] {
  return news.map((deal) => ({
    name: deal.dealName ?? unnamedDeal[language],
    own: deal.own,
    changes: deal.changes.map(({ detail }): DealNewsItemView => {
      switch (detail.kind) {
        case 'phase_changed':
          return {
            kind: 'phase_changed',
            from: phaseLabels[language][detail.from],
            to: phaseLabels[language][detail.to],
          };
        case 'result':
          return { kind: 'result', title: detail.title };
        default:
          return { kind: 'lesson', lessonKind: lessonLabels[language][detail.lessonKind], text: detail.text };
      }
    }),
  }));
}
