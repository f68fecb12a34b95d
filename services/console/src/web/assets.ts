/**
 * The console's stylesheet and its one script, served as files from /static/ (the Content-Security-Policy allows
 * no inline style or script). Kept as modules, not files on disk, so the bundled service carries them.
 */
export const consoleCss = `/* Phone first: the door page is used standing, with one hand. */
:root {
  --ink: #1b1b1b;
  --accent: #01689b;
  --ok: #2e7d32;
  --error: #b00020;
  --line: #c4c4c4;
  font-family: system-ui, sans-serif;
  color: var(--ink);
}
body {
  margin: 0;
  line-height: 1.5;
}
.skip {
  position: absolute;
  left: -999px;
}
.skip:focus {
  left: 1rem;
  top: 1rem;
  background: #fff;
  padding: 0.5rem;
}
header {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem 1rem;
  align-items: center;
  padding: 0.5rem 1rem;
  background: #e8f1f8;
  border-bottom: 2px solid var(--accent);
}
header .brand {
  font-weight: 700;
  margin: 0;
}
header nav ul {
  display: flex;
  gap: 1rem;
  list-style: none;
  margin: 0;
  padding: 0;
}
header .logout {
  display: flex;
  gap: 0.5rem;
  align-items: center;
  margin-left: auto;
}
a {
  color: var(--accent);
}
main {
  padding: 1rem;
  max-width: 60rem;
}
.stack {
  display: grid;
  gap: 0.5rem;
  max-width: 28rem;
}
input,
select,
textarea,
button {
  font: inherit;
  padding: 0.6rem;
  border: 1px solid #666;
  border-radius: 4px;
}
button {
  background: var(--accent);
  color: #fff;
  border-color: var(--accent);
  min-height: 2.75rem;
  min-width: 2.75rem;
  cursor: pointer;
}
:focus-visible {
  outline: 3px solid #ffbf47;
  outline-offset: 2px;
}
.error {
  color: var(--error);
  font-weight: 600;
}
.ok {
  color: var(--ok);
  font-weight: 600;
}
.figures {
  display: flex;
  gap: 1.5rem;
}
.figures dt {
  font-size: 0.875rem;
}
.figures dd {
  margin: 0;
  font-size: 1.5rem;
  font-weight: 700;
}
meter {
  width: 100%;
  max-width: 28rem;
  height: 1.25rem;
}
.chart svg {
  width: 100%;
  max-width: 32rem;
  height: auto;
}
.chart rect {
  fill: var(--accent);
}
.chart text {
  font-size: 14px;
  fill: var(--ink);
}
.table-scroll {
  overflow-x: auto;
}
table {
  border-collapse: collapse;
  width: 100%;
}
th,
td {
  text-align: left;
  border-bottom: 1px solid var(--line);
  padding: 0.4rem;
  vertical-align: top;
}
.search {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem;
  align-items: center;
}
.search label {
  width: 100%;
}
.search input {
  flex: 1;
  min-width: 10rem;
}
.attendees {
  list-style: none;
  padding: 0;
}
.attendees li {
  display: flex;
  justify-content: space-between;
  align-items: center;
  gap: 0.5rem;
  padding: 0.5rem 0;
  border-bottom: 1px solid var(--line);
}
.attendees small {
  display: block;
  color: #555;
}
.done {
  color: var(--ok);
  font-weight: 600;
}
button.secondary {
  background: #fff;
  color: var(--accent);
}
button.danger {
  background: var(--error);
  border-color: var(--error);
}
.attendees li form {
  display: inline;
}
.scanner video {
  width: 100%;
  max-width: 28rem;
}
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
}
.field.invalid input {
  border-color: var(--error);
}
.check {
  display: flex;
  gap: 0.5rem;
  align-items: center;
}
form.inline {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem;
  align-items: center;
  margin: 0.5rem 0;
}
.facts div {
  display: flex;
  gap: 0.5rem;
}
.facts dt {
  font-weight: 600;
}
.facts dt::after {
  content: ':';
}
.facts dd {
  margin: 0;
}
.chart polyline {
  fill: none;
  stroke: var(--accent);
  stroke-width: 2;
}
.chart line {
  stroke: var(--line);
}
.chart rect.track {
  fill: #e6e6e6;
}
`;

export const consoleJs = `// Progressive enhancement of the door search: results follow the typing; without this script the search form
// submits as usual. Loaded as a file because the Content-Security-Policy allows no inline script.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-live-search]');
  if (!form) return;
  const input = form.querySelector('input[name="q"]');
  let timer;
  let latest = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const ask = ++latest;
      const url = \`\${form.dataset.liveSearch}?q=\${encodeURIComponent(input.value.trim())}\`;
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok || ask !== latest) return;
      const list = document.getElementById('attendees');
      const next = document.createRange().createContextualFragment(await response.text());
      list.replaceWith(next);
      history.replaceState(null, '', \`/door?q=\${encodeURIComponent(input.value.trim())}\`);
    }, 150);
  });
});
// The door's camera scanner. Where the browser reads QR codes itself (BarcodeDetector: Chrome on Android, among
// others) it does; elsewhere (desktop Linux, iOS Safari) the console's own copy of the jsQR decoder, served from
// /static/ like this script, reads the camera's frames. Only a door-scan path is followed, and always on this
// site, whatever host the code names.
document.addEventListener('DOMContentLoaded', () => {
  const box = document.querySelector('[data-scanner]');
  if (!box || !navigator.mediaDevices?.getUserMedia) return;
  box.hidden = false;
  const video = box.querySelector('[data-scan-video]');
  const status = box.querySelector('[data-scan-status]');
  const scanPath = /^\\/door\\/scan\\/[0-9a-f-]{36}$/i;
  const loadDecoder = () =>
    new Promise((resolve, reject) => {
      if (window.jsQR) return resolve(window.jsQR);
      const script = document.createElement('script');
      script.src = '/static/jsqr.js';
      script.onload = () => resolve(window.jsQR);
      script.onerror = reject;
      document.head.append(script);
    });
  // One reader for both: the browser's detector, or jsQR on the video's current frame drawn on a canvas.
  const reader = async () => {
    if ('BarcodeDetector' in window) {
      const detector = new BarcodeDetector({ formats: ['qr_code'] });
      return async () => (await detector.detect(video).catch(() => [])).map((code) => code.rawValue);
    }
    const jsQR = await loadDecoder();
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    return async () => {
      const { videoWidth: width, videoHeight: height } = video;
      if (!width || !height) return [];
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      const code = jsQR(context.getImageData(0, 0, width, height).data, width, height, {
        inversionAttempts: 'dontInvert',
      });
      return code ? [code.data] : [];
    };
  };
  box.querySelector('[data-scan-start]').addEventListener('click', async () => {
    let stream;
    let read;
    try {
      read = await reader();
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch {
      status.textContent = '⚠';
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const tick = async () => {
      for (const text of await read()) {
        let path;
        try {
          path = new URL(text).pathname;
        } catch {
          continue;
        }
        if (scanPath.test(path)) {
          for (const track of stream.getTracks()) track.stop();
          location.assign(path);
          return;
        }
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
});
`;
