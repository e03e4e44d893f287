// Small behaviours that would otherwise need inline script (the CSP forbids it).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.dataset.autosubmit !== undefined && el.form) el.form.submit();
});
// What the copy buttons did, said to screen readers too: one polite live region, there before it speaks.
const copyStatus = document.createElement("span");
copyStatus.className = "visually-hidden";
copyStatus.setAttribute("role", "status");
copyStatus.setAttribute("aria-live", "polite");
document.body.append(copyStatus);
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const say = (shown, spoken) => {
    button.textContent = shown;
    copyStatus.textContent = spoken;
    setTimeout(() => { button.textContent = label; copyStatus.textContent = ""; }, 1500);
  };
  navigator.clipboard.writeText(button.dataset.copy).then(
    () => say("Copied", "Copied to the clipboard"),
    () => say("Not copied", "Could not copy: select the text and copy it by hand"),
  );
});
// A table or block of text that scrolls inside its own box is reached with the keyboard too.
function focusScrollers(root) {
  root.querySelectorAll(".table-wrap, pre").forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    if (scrolls && !box.hasAttribute("tabindex")) box.tabIndex = 0;
  });
}
focusScrollers(document);
window.addEventListener("resize", () => focusScrollers(document));
document.addEventListener("htmx:afterSettle", (event) => focusScrollers(event.target));
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
