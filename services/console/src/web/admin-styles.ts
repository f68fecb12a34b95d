/** Styles of the people, keys and deliveries pages, served after the console's own (see static.routes.ts). */
export const adminCss = `
/* With the deliveries and people links the menu no longer fits a phone's width on one line. */
header nav ul {
  flex-wrap: wrap;
  row-gap: 0.25rem;
}
/* A select sized by its longest option must not push a form past a phone's width. */
.stack {
  grid-template-columns: minmax(0, 1fr);
}
.stack > *,
form.inline select {
  min-width: 0;
  max-width: 100%;
}
/* Hidden labels inside a scrolled table stay inside it, instead of widening the page. */
.table-scroll {
  position: relative;
}
h1 {
  overflow-wrap: anywhere;
}
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
form.inline {
  display: flex;
  flex-wrap: wrap;
  gap: 0.25rem;
  align-items: center;
}
.actions {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem;
  margin: 1rem 0;
}
.subnav ul {
  display: flex;
  flex-wrap: wrap;
  gap: 1rem;
  list-style: none;
  padding: 0;
}
ul.plain {
  list-style: none;
  margin: 0;
  padding: 0;
}
code.secret {
  display: inline-block;
  padding: 0.4rem;
  background: #f3f3f3;
  border: 1px solid var(--line);
  word-break: break-all;
  user-select: all;
}
a.button {
  display: inline-block;
  padding: 0.6rem;
  border: 1px solid var(--accent);
  border-radius: 4px;
  text-decoration: none;
  min-height: 1.5rem;
}
`;
