import type { EmailKind } from '@citydeals/contracts';
import QRCode from 'qrcode';

/**
 * The QR code in a confirmation: it holds the console's door address for the registration, which only
 * logged-in door staff can act on (the id in it is no secret and opens nothing by itself). Made when the mail
 * is sent, from the registration id the mail row keeps, so nothing more is stored; the HTML refers to it by
 * this Content-ID, as an inline image part — mail clients show those, where many block data: URIs.
 */
export const DOOR_QR_CID = 'door-qr@citydeals';

/** The mails that give a seat, and so something to show at the door. */
export function showsDoorQr(kind: EmailKind): boolean {
  return kind === 'registration_confirmed' || kind === 'promoted';
}

export function doorScanUrl(consoleUrl: string, registrationId: string): string {
  return `${consoleUrl}/door/scan/${registrationId}`;
}

export interface InlineImage {
  cid: string;
  contentType: 'image/png';
  filename: string;
  content: Buffer;
}

/** The image for a mail whose HTML shows the code; none for any other mail. */
export async function doorQrImage(
  mail: { html_body: string | null; registration_id: string | null },
  consoleUrl: string | null,
): Promise<InlineImage | null> {
  if (!consoleUrl || !mail.registration_id || !mail.html_body?.includes(`cid:${DOOR_QR_CID}`)) return null;
  const content = await QRCode.toBuffer(doorScanUrl(consoleUrl, mail.registration_id), {
    type: 'png',
    errorCorrectionLevel: 'M',
    margin: 4,
    scale: 6,
  });
  return { cid: DOOR_QR_CID, contentType: 'image/png', filename: 'deur-qr.png', content };
}
