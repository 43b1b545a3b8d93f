// whowrote's page: judge a pasted or dropped text through the server's own API
// (/model, /explain, /rolling), show the verdict, the calibrated probabilities, the words
// highlighted by their attribution, and, for a long text, the rolling attribution.
"use strict";

const $ = (id) => document.getElementById(id);
let model = null;

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({detail: res.statusText}));
  if (!res.ok) throw new Error(data.detail || `HTTP ${res.status}`);
  return data;
}

function status(message, isError = false) {
  $("status").textContent = message;
  $("status").className = isError ? "error" : "";
}

function showProbs(result) {
  const rows = Object.entries(result.probs).map(([label, p]) => [`P(${label} | by one of them)`, p]);
  if (result.p_neither !== undefined) {
    const from = result.neither_threshold !== undefined ? `; "neither" from ${result.neither_threshold.toFixed(3)} at this length` : "";
    rows.push([`P(neither: another author${from})`, result.p_neither]);
  }
  $("probs").tBodies[0].replaceChildren(...rows.map(([name, p]) => {
    const tr = document.createElement("tr");
    const bar = `<span class="bar" style="width:${Math.round(p * 200)}px"></span>`;
    tr.innerHTML = `<td>${name}</td><td>${p.toFixed(3)}</td><td aria-hidden="true">${bar}</td>`;
    return tr;
  }));
}

function showWords(text, words) {
  const max = Math.max(1e-9, ...words.map((w) => Math.abs(w.score)));
  const out = [];
  let at = 0;
  for (const w of words) {
    if (w.start_char > at) out.push(document.createTextNode(text.slice(at, w.start_char)));
    const span = document.createElement("span");
    const strength = Math.min(1, Math.abs(w.score) / max);
    const rgb = w.score >= 0 ? "var(--pos)" : "var(--neg)";
    span.className = "w";
    span.textContent = text.slice(w.start_char, w.end_char);
    span.style.background = `rgba(${rgb}, ${(0.85 * strength).toFixed(3)})`;
    if (strength > 0.45) span.style.color = "#fff";  // keep contrast on strong colours
    span.title = `${w.score >= 0 ? "+" : ""}${w.score.toFixed(3)}`;
    span.dataset.score = w.score;
    out.push(span);
    at = w.end_char;
  }
  out.push(document.createTextNode(text.slice(at)));
  $("words").replaceChildren(...out);
}

function showRolling(r) {
  const W = 900, H = 260, pad = 40;
  const xs = r.windows.map((w) => (w.token_start + w.token_end) / 2);
  const x0 = xs[0], x1 = xs[xs.length - 1] || x0 + 1;
  const sx = (x) => pad + (W - 2 * pad) * (x - x0) / Math.max(1, x1 - x0);
  const sy = (p) => H - pad - (H - 2 * pad) * p;
  const colours = ["#0b4f9c", "#b35900", "#6a3d9a", "#1b7837"];
  const path = (pts) => pts.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("");
  let svg = `<svg viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`;
  svg += `<line x1="${pad}" y1="${sy(0)}" x2="${W - pad}" y2="${sy(0)}" stroke="#767676"/>`;
  svg += `<line x1="${pad}" y1="${sy(0.5)}" x2="${W - pad}" y2="${sy(0.5)}" stroke="#c8c8c8" stroke-dasharray="3 3"/>`;
  r.labels.forEach((label, i) => {
    const c = colours[i % colours.length];
    svg += `<path d="${path(r.windows.map((w, j) => [xs[j], w.probs[label]]))}" stroke="${c}" stroke-opacity="0.35" fill="none"/>`;
    const sm = r.windows.map((w, j) => w.smoothed ? [xs[j], w.smoothed[label]] : null).filter(Boolean);
    svg += `<path d="${path(sm)}" stroke="${c}" stroke-width="2.5" fill="none"/>`;
    svg += `<text x="${W - pad - 120}" y="${pad + 16 * i}" fill="${c}" font-size="13">P(${label})</text>`;
  });
  if (r.windows[0].p_neither !== undefined) {
    svg += `<path d="${path(r.windows.map((w, j) => [xs[j], w.p_neither]))}" stroke="#4a4a4a" stroke-dasharray="5 3" fill="none"/>`;
    svg += `<text x="${W - pad - 120}" y="${pad + 16 * r.labels.length}" fill="#4a4a4a" font-size="13">P(neither)</text>`;
  }
  for (const b of r.boundaries) {
    svg += `<line x1="${sx(b.token)}" y1="${pad / 2}" x2="${sx(b.token)}" y2="${H - pad}" stroke="#1a1a1a" stroke-dasharray="2 3"/>`;
  }
  svg += `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">token offset</text></svg>`;
  $("rolling-plot").innerHTML = svg;
  $("segments").replaceChildren(...r.segments.map((s) => {
    const li = document.createElement("li");
    li.textContent = `${s.label}: tokens ${s.token_start}\u2013${s.token_end} (characters ${s.char_start}\u2013${s.char_end})`;
    return li;
  }));
  $("rolling").hidden = false;
}

async function judge(event) {
  event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) { status("The text is empty.", true); $("text").focus(); return; }
  $("judge").disabled = true;
  $("rolling").hidden = true;
  status("Judging\u2026");
  try {
    const result = await api("/explain", {text: text.slice(0, 20000)});
    $("verdict").textContent = result.label;
    showProbs(result);
    showWords(text.slice(0, 20000), result.explanation.words);
    $("result").hidden = false;
    const long = model && result.tokens > 2 * model.window;
    const flags = result.flags || [];
    status(`Judged: ${result.label} (${result.windows} window${result.windows > 1 ? "s" : ""}, ${result.tokens} tokens).`
           + (flags.includes("not-english") ? " Under half of its words are English words: there is no English style here to judge." : "")
           + (flags.includes("short") ? " A short text: the verdict rests on few words." : "")
           + (flags.includes("incoherent") ? " It does not hang together beyond pairs of words: a word chain, not prose." : "")
           + (flags.includes("word-order") ? " It reads as its author no better with its words shuffled: word salad." : "")
           + (flags.includes("keywords") ? " It reads as its author only through the author's favourite words." : "")
           + (flags.includes("repetitive") ? " It says the same words over and over: a loop, not prose." : "")
           + (text.length > 20000 ? " Words are shown for the first 20,000 characters." : ""));
    if (long) showRolling(await api("/rolling", {text}));
  } catch (err) {
    status(`Could not judge the text: ${err.message}`, true);
  } finally {
    $("judge").disabled = false;
  }
}

function readFile(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { $("text").value = reader.result; status(`Loaded ${file.name}.`); };
  reader.onerror = () => status(`Could not read ${file.name}.`, true);
  reader.readAsText(file);
}

$("judge-form").addEventListener("submit", judge);
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) judge(e); });
$("file").addEventListener("change", (e) => readFile(e.target.files[0]));
$("text").addEventListener("dragover", (e) => { e.preventDefault(); $("text").classList.add("dragging"); });
$("text").addEventListener("dragleave", () => $("text").classList.remove("dragging"));
$("text").addEventListener("drop", (e) => {
  e.preventDefault();
  $("text").classList.remove("dragging");
  readFile(e.dataTransfer.files[0]);
});
api("/model").then((m) => {
  model = m;
  const neither = m.open_set.method !== "none" ? ", or neither" : "";
  $("model-info").textContent = `Who wrote it: ${m.labels.join(", ")}${neither}. Passages of ${m.seq_len} tokens; `
    + `probabilities calibrated (T = ${m.temperature.toFixed(2)}); names are masked as in training.`;
  if (m.partner) {  // the verdict weighs a char n-gram model too; the highlighted words are BERT's reading
    $("legend").append(` The verdict also weighs a character n-gram model (weight ${m.partner.weight.toFixed(2)}), `
      + "whose share is not shown on the words.");
  }
}).catch((err) => status(`The server did not answer: ${err.message}`, true));
