import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import { A4, fittingSize, labelBoxes, MM, type SheetLayout } from './badge.layout.ts';

// DejaVu covers every Latin, Greek and Cyrillic letter an attendee's name may have; the PDF's built-in
// fonts know only Windows-1252.
const require = createRequire(import.meta.url);
const regularFont = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const boldFont = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

export interface Badge {
  name: string;
  organisation: string;
  deal: string | null;
}

/** The badges as one PDF, in the order given: name large and bold, organisation and deal beneath. */
export async function renderBadges(
  badges: readonly Badge[],
  layout: SheetLayout,
  title: string,
): Promise<Buffer> {
  const doc = new PDFDocument({
    size: [A4.width * MM, A4.height * MM],
    margin: 0,
    autoFirstPage: false,
    info: { Title: title, Creator: 'City Deals Community of Practice' },
  });
  doc.registerFont('regular', regularFont);
  doc.registerFont('bold', boldFont);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  let page = -1;
  const boxes = labelBoxes(layout, Math.max(badges.length, 1));
  badges.forEach((badge, i) => {
    const box = boxes[i]!;
    while (page < box.page) {
      doc.addPage();
      page += 1;
    }
    const pad = Math.min(box.width, box.height) * 0.08 * MM;
    const x = box.x * MM + pad;
    const width = box.width * MM - 2 * pad;
    const lines = [
      { font: 'bold', text: badge.name, max: Math.min(box.height * 0.3, 28), min: 8 },
      { font: 'regular', text: badge.organisation, max: Math.min(box.height * 0.16, 14), min: 6 },
      ...(badge.deal
        ? [{ font: 'regular', text: badge.deal, max: Math.min(box.height * 0.14, 12), min: 6 }]
        : []),
    ].map((line) => ({
      ...line,
      size: fittingSize(
        (size) => doc.font(line.font).fontSize(size).widthOfString(line.text),
        width,
        line.max,
        line.min,
      ),
    }));
    const gap = 0.35;
    const total = lines.reduce((sum, l) => sum + l.size * (1 + gap), -lines[lines.length - 1]!.size * gap);
    let y = box.y * MM + (box.height * MM - total) / 2;
    for (const line of lines) {
      doc
        .font(line.font)
        .fontSize(line.size)
        .text(line.text, x, y, { width, lineBreak: false, ellipsis: true, align: 'center' });
      y += line.size * (1 + gap);
    }
    if (layout.cutMarks) {
      doc
        .save()
        .lineWidth(0.3)
        .strokeColor('#999999')
        .rect(box.x * MM, box.y * MM, box.width * MM, box.height * MM)
        .stroke()
        .restore();
    }
  });
  if (badges.length === 0) doc.addPage();
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
