/**
 * The only script of the dashboard and account pages, served from our origin (the CSP
 * allows no inline script): copy buttons for the App ID and the Secret Key. Without
 * JavaScript the values stay selectable text.
 */
export const PAGE_SCRIPT = `
document.addEventListener('click', function (event) {
  var button = event.target.closest && event.target.closest('button[data-copy]');
  if (!button) return;
  var source = document.getElementById(button.getAttribute('data-copy'));
  if (!source || !navigator.clipboard) return;
  var label = button.textContent;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = 'Copied';
    setTimeout(function () { button.textContent = label; }, 2000);
  }, function () {
    button.textContent = 'Select the text and copy it';
  });
});
`;
