// Where each name badge goes on an A4 sheet: the label stocks an office buys, in millimetres as their
// makers print them. Pure: the PDF writer only draws into the boxes this gives.

export const MM = 72 / 25.4;

export interface SheetLayout {
  /** How the office names it when buying labels. */
  readonly title: string;
  readonly labelWidth: number;
  readonly labelHeight: number;
  readonly columns: number;
  readonly rows: number;
  readonly marginTop: number;
  readonly marginLeft: number;
  /** Distance from one label's left edge to the next one's (label width plus the gap). */
  readonly pitchX: number;
  readonly pitchY: number;
  /** Cut marks around each label, for sheets that are cut rather than peeled. */
  readonly cutMarks: boolean;
}

export const A4 = Object.freeze({ width: 210, height: 297 });

export const sheetLayouts = Object.freeze({
  // Avery L7163 and its equivalents: 2 × 7 labels of 99.1 × 38.1 mm.
  'avery-l7163': {
    title: 'Avery L7163 (14 labels, 99.1 × 38.1 mm)',
    labelWidth: 99.1,
    labelHeight: 38.1,
    columns: 2,
    rows: 7,
    marginTop: 15.15,
    marginLeft: 4.65,
    pitchX: 101.6,
    pitchY: 38.1,
    cutMarks: false,
  },
  // Plain A4 cut into four A6 cards, the size of common badge holders.
  'a6-4up': {
    title: 'A6 cards, 4 per A4 sheet (105 × 148.5 mm), for badge holders',
    labelWidth: 105,
    labelHeight: 148.5,
    columns: 2,
    rows: 2,
    marginTop: 0,
    marginLeft: 0,
    pitchX: 105,
    pitchY: 148.5,
    cutMarks: true,
  },
} satisfies Record<string, SheetLayout>);

export type SheetLayoutName = keyof typeof sheetLayouts;
export const sheetLayoutNames = Object.keys(sheetLayouts) as [SheetLayoutName, ...SheetLayoutName[]];

export interface LabelBox {
  page: number;
  /** Millimetres from the sheet's top left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The boxes of `count` labels, filled row by row, sheet after sheet. */
export function labelBoxes(layout: SheetLayout, count: number): LabelBox[] {
  const perSheet = layout.columns * layout.rows;
  return Array.from({ length: count }, (_, i) => {
    const onSheet = i % perSheet;
    return {
      page: Math.floor(i / perSheet),
      x: layout.marginLeft + (onSheet % layout.columns) * layout.pitchX,
      y: layout.marginTop + Math.floor(onSheet / layout.columns) * layout.pitchY,
      width: layout.labelWidth,
      height: layout.labelHeight,
    };
  });
}

/** The largest size, from `max` down, at which `text` fits `width`; never below `min` (then it is cut). */
export function fittingSize(
  widthAt: (size: number) => number,
  width: number,
  max: number,
  min: number,
): number {
  for (let size = max; size > min; size -= 0.5) if (widthAt(size) <= width) return size;
  return min;
}
