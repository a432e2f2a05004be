/** The pages' only stylesheet, served from our origin so the CSP needs no inline style. */
export const PAGE_CSS = `
:root { color-scheme: light dark; --accent: #2454c5; --error: #b3261e; --muted: #5f6368; --on-accent: #fff; }
/* The system's dark Canvas is near black: the light scheme's blue, red and grey fall far
   below 4.5:1 on it (WCAG 1.4.3), so the dark scheme has lighter tones and dark text on them. */
@media (prefers-color-scheme: dark) {
  :root { --accent: #8ab4f8; --error: #f2b8b5; --muted: #bdc1c6; --on-accent: #121212; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: Canvas; color: CanvasText; }
main { max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.brand { font-weight: 700; letter-spacing: .02em; color: var(--accent); margin-bottom: 1.5rem; }
.lead { color: var(--muted); margin-top: 0; }
form { display: grid; gap: 1rem; margin-top: 1.5rem; }
.field { display: grid; gap: .25rem; }
label { font-weight: 600; }
input[type=email], input[type=password], input[type=text], select {
  font: inherit; padding: .6rem .7rem; border: 1px solid #9aa0a6; border-radius: .4rem; background: Field; color: FieldText; width: 100%; }
input[aria-invalid=true], select[aria-invalid=true] { border-color: var(--error); }
.error { color: var(--error); margin: 0; font-size: .9rem; }
.alert { border: 1px solid var(--error); color: var(--error); border-radius: .4rem; padding: .6rem .8rem; }
fieldset { border: 1px solid #c4c7c5; border-radius: .4rem; padding: .75rem 1rem; display: grid; gap: .6rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: grid; grid-template-columns: auto 1fr; gap: .1rem .6rem; align-items: start; }
.choice input { margin-top: .35rem; }
.choice .why { grid-column: 2; color: var(--muted); font-size: .9rem; }
.required { color: var(--error); font-weight: 600; font-size: .85rem; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; }
button { font: inherit; font-weight: 600; padding: .6rem 1.2rem; border-radius: .4rem; border: 1px solid var(--accent); cursor: pointer; }
button.primary { background: var(--accent); color: var(--on-accent); }
button.secondary { background: transparent; color: var(--accent); }
.switch { margin-top: 1.5rem; color: var(--muted); }
a { color: var(--accent); }
/* Keyboard users must see where they are (WCAG 2.4.7); browsers' own rings vary and some are faint. */
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.fine { color: var(--muted); font-size: .85rem; }
main.wide { max-width: 52rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
textarea { font: inherit; padding: .5rem .7rem; border: 1px solid #9aa0a6; border-radius: .4rem; background: Field; color: FieldText; width: 100%; }
code.credential { display: block; word-break: break-all; padding: .5rem; border: 1px solid #c4c7c5; border-radius: .4rem; font-size: .85rem; }
.label { font-weight: 600; }
.notice { border: 1px solid var(--accent); border-radius: .4rem; padding: .6rem .8rem; }
.warnings { color: var(--error); }
.topbar { display: flex; gap: 1rem; align-items: center; justify-content: space-between; }
form.inline, .inline-form { display: inline; margin: 0; }
button.link { background: none; border: none; color: var(--accent); text-decoration: underline; padding: 0 .25rem; font-weight: 400; }
button.danger { background: var(--error); border-color: var(--error); color: var(--on-accent); }
table.fields { border-collapse: collapse; width: 100%; }
table.fields th, table.fields td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #c4c7c5; }
figure.chart { margin: 0; overflow-x: auto; }
ul.apps li, ul.members li, ul.owners li { margin: .3rem 0; }
figure.qr { margin: 1rem 0; }
figure.qr svg { width: 12rem; height: 12rem; background: #fff; }
ul.recovery-codes { columns: 2; font-size: 1.1rem; }
.sections { display: flex; flex-wrap: wrap; gap: .25rem .9rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
ol.timeline { list-style: none; padding: 0; }
ol.timeline li { padding: .3rem 0; border-bottom: 1px solid #e0e0e0; }
img.avatar { border-radius: 50%; display: block; margin: .5rem 0; }
ol.timeline time { color: var(--muted); font-size: .85rem; margin-right: .5rem; }
.error-summary { border: 2px solid var(--error); border-radius: .4rem; padding: .2rem 1rem .6rem; margin: 1rem 0; }
.error-summary h2 { margin-top: .6rem; }
footer { margin-top: 3rem; border-top: 1px solid #c4c7c5; padding-top: .6rem; }
nav.languages { display: flex; gap: .9rem; font-size: .9rem; }
`;
