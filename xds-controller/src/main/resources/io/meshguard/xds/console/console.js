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
