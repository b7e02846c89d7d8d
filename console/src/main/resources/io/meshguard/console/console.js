// meshguard console: the only script of our own (CSP default-src 'self': no inline script anywhere).
// Fleet: live rows over server-sent events; each event carries the tbody's server-rendered (escaped) rows.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector("table[data-sse]");
  if (!table || !window.EventSource) {
    return;
  }
  const rows = document.getElementById("fleet-rows");
  const updated = document.getElementById("fleet-updated");
  const source = new EventSource(table.dataset.sse);
  source.addEventListener("fleet", (e) => {
    const message = JSON.parse(e.data);
    rows.innerHTML = message.rows;
    updated.textContent = message.at;
  });
});

// A secret shown once (a new API key): its copy button. Clipboard API where the page is a secure context (https or
// loopback); otherwise the text is selected for the person to copy.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("copy-secret");
  if (!button) {
    return;
  }
  const secret = document.getElementById(button.dataset.copy);
  const status = document.getElementById("copy-status");
  button.addEventListener("click", () => {
    const selectIt = () => {
      const range = document.createRange();
      range.selectNodeContents(secret);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
    };
    if (!navigator.clipboard || !window.isSecureContext) {
      selectIt();
      return;
    }
    navigator.clipboard.writeText(secret.textContent).then(
      () => { status.textContent = "Copied."; },
      selectIt);
  });
});
