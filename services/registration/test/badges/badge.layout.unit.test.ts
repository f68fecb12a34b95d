import t from 'tap';
import { A4, fittingSize, labelBoxes, sheetLayouts } from '../../src/badges/badge.layout.ts';

t.test('every layout fits its labels on A4 without overlap', async (t) => {
  for (const [name, layout] of Object.entries(sheetLayouts)) {
    const perSheet = layout.columns * layout.rows;
    const boxes = labelBoxes(layout, perSheet);
    for (const box of boxes) {
      t.ok(box.x >= 0 && box.y >= 0, `${name}: inside the sheet`);
      t.ok(
        box.x + box.width <= A4.width + 1e-9 && box.y + box.height <= A4.height + 1e-9,
        `${name}: within A4`,
      );
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        const apart =
          a.x + a.width <= b.x + 1e-9 ||
          b.x + b.width <= a.x + 1e-9 ||
          a.y + a.height <= b.y + 1e-9 ||
          b.y + b.height <= a.y + 1e-9;
        if (!apart) t.fail(`${name}: labels ${i} and ${j} overlap`);
      }
    }
  }
});

t.test('labels fill row by row, then the next sheet', async (t) => {
  const layout = sheetLayouts['avery-l7163'];
  const boxes = labelBoxes(layout, 15);
  t.same(
    boxes.slice(0, 3).map((b) => [b.page, b.x, b.y]),
    [
      [0, 4.65, 15.15],
      [0, 4.65 + 101.6, 15.15],
      [0, 4.65, 15.15 + 38.1],
    ],
  );
  t.same([boxes[14]!.page, boxes[14]!.x, boxes[14]!.y], [1, 4.65, 15.15], 'the 15th label starts sheet two');
  t.equal(15.15 * 2 + 7 * 38.1, A4.height, 'L7163: the rows and margins make up the sheet');
});

t.test('a long text gets the largest size that fits, never below the minimum', async (t) => {
  const widthAt = (size: number) => size * 10;
  t.equal(fittingSize(widthAt, 200, 28, 8), 20);
  t.equal(fittingSize(widthAt, 1000, 28, 8), 28);
  t.equal(fittingSize(widthAt, 10, 28, 8), 8);
});
