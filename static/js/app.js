// Small behaviours that would otherwise need inline script (the CSP forbids it).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.dataset.autosubmit !== undefined && el.form) el.form.submit();
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// A sent email shown in a frame of its page: as tall as its content (same origin, no script inside it).
function fitFrame(frame) {
  try {
    const doc = frame.contentDocument;
    // The body's own height: the document's scrollHeight is never less than the frame it sits in.
    if (doc && doc.body) frame.style.height = `${Math.ceil(doc.body.getBoundingClientRect().height) + 4}px`;
  } catch (e) { /* another origin: keep the set height */ }
}
document.querySelectorAll("iframe[data-fit]").forEach((frame) => {
  frame.addEventListener("load", () => fitFrame(frame));
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") fitFrame(frame);
});
window.addEventListener("resize", () => document.querySelectorAll("iframe[data-fit]").forEach(fitFrame));
