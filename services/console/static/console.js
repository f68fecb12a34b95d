// Progressive enhancement of the door search: results follow the typing; without this script the search form
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
      const url = `${form.dataset.liveSearch}?q=${encodeURIComponent(input.value.trim())}`;
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok || ask !== latest) return;
      const list = document.getElementById('attendees');
      const next = document.createRange().createContextualFragment(await response.text());
      list.replaceWith(next);
      history.replaceState(null, '', `/door?q=${encodeURIComponent(input.value.trim())}`);
    }, 150);
  });
});
