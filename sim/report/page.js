/* sim/report/page.js - the report page: step through the trace, redraw the grids (embedded by embed.cmake). */
"use strict";
(function () {
	const D = JSON.parse(document.getElementById("data").textContent);
	const N = D.steps.length;
	const UNMAPPED = D.states.length - 1;
	const $ = (id) => document.getElementById(id);
	const el = (tag, cls, text) => {
		const e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text !== undefined) e.textContent = text;
		return e;
	};
	const rgb = D.states.map((s) => [1, 3, 5].map((i) => parseInt(s.color.substr(i, 2), 16)));
	const V = D.violation;
	const failAt = V ? V.step : D.failed;
	let cur = -1;
	const cells = D.regions.map((r) => new Uint8Array(r.pages).fill(UNMAPPED));
	/* The last step at or before k that recorded the queues. */
	const qAt = [];
	for (let k = 0, last = -1; k < N; k++) {
		if (D.steps[k].q) last = k;
		qAt.push(last);
	}

	/* Step k's changes; with `moves`, also count them as
	 * "region: old -> new" before they are applied. */
	function apply(k, moves) {
		const runs = D.steps[k].runs;
		for (let j = 0; j < runs.length; j += 4) {
			const c = cells[runs[j]], from = runs[j + 1], to = from + runs[j + 2];
			for (let p = from; moves && p < to; p++) {
				const key = D.regions[runs[j]].name + ": " + D.states[c[p]].name + " \u2192 " +
					D.states[runs[j + 3]].name;
				moves.set(key, (moves.get(key) || 0) + 1);
			}
			c.fill(runs[j + 3], from, to);
		}
	}

	/* Up to SMALL pages: a 10-pixel cell per page, 64 to a row. Above:
	 * one line per 2 MiB (512 pages, a pixel each), and lines whose pages
	 * all share a state, when several follow each other, collapsed into one
	 * labelled band; a gutter on the left marks lines that changed. */
	const SMALL = 4096, COLS = 64, CELL = 10, ROW = 512, LINE = 7, BAND = 16, GUTTER = 8;

	function layout(i) {
		const r = D.regions[i], c = cells[i];
		if (r.pages <= SMALL) {
			const cols = Math.min(r.pages, COLS), rows = Math.ceil(r.pages / cols);
			return { w: cols * (CELL + 1) + 1, h: rows * (CELL + 1) + 1,
				segs: [{ kind: "cells", first: 0, n: r.pages, cols, y: 0, h: rows * (CELL + 1) + 1 }] };
		}
		const nrows = Math.ceil(r.pages / ROW), rowState = new Int8Array(nrows);
		for (let row = 0; row < nrows; row++) {
			const first = row * ROW, last = Math.min(r.pages, first + ROW);
			let s = c[first];
			for (let p = first + 1; p < last && s >= 0; p++) if (c[p] !== s) s = -1;
			rowState[row] = s;
		}
		const segs = [];
		let y = 0;
		for (let row = 0; row < nrows;) {
			let rows = 1;
			while (rowState[row] >= 0 && row + rows < nrows && rowState[row + rows] === rowState[row]) rows++;
			const first = row * ROW, n = Math.min(r.pages, (row + rows) * ROW) - first;
			if (rows >= 2) {
				segs.push({ kind: "band", first, n, state: rowState[row], y, h: BAND });
				y += BAND + 1;
			} else {
				segs.push({ kind: "line", first, n, y, h: LINE });
				y += LINE + 1;
			}
			row += rows;
		}
		return { w: GUTTER + ROW, h: Math.max(y, 1), segs };
	}

	/* The page under canvas pixel (x, y), or a band's range. */
	function pageAt(L, x, y) {
		for (const sg of L.segs) {
			if (y < sg.y || y >= sg.y + sg.h) continue;
			if (sg.kind === "cells") {
				const p = Math.floor(y / (CELL + 1)) * sg.cols + Math.floor(x / (CELL + 1));
				return p < sg.n && x < sg.cols * (CELL + 1) ? { first: p, n: 1 } : null;
			}
			if (sg.kind === "band") return { first: sg.first, n: sg.n };
			const p = sg.first + Math.floor(x - GUTTER);
			return x >= GUTTER && p < sg.first + sg.n ? { first: p, n: 1 } : null;
		}
		return null;
	}

	const luminous = (s) => rgb[s][0] * 0.3 + rgb[s][1] * 0.59 + rgb[s][2] * 0.11 > 128;

	function pageAddr(r, p) {
		return "0x" + (BigInt(r.start) + BigInt(p) * 4096n).toString(16);
	}

	/* --- static parts --- */
	const sum = $("summary");
	sum.append(el("span", "", D.trace + " \u00b7 patch level " + D.level + " \u00b7 kernel " + D.kernel + " \u00b7 "));
	sum.append(el("span", D.verdict === "PASS" ? "pass" : "fail", D.verdict));
	if (V) sum.append(el("span", "", ": " + V.invariant + " at line " + V.line));
	else if (D.failed >= 0) sum.append(el("span", "", " at line " + D.steps[D.failed].line));
	sum.title = D.error;

	const list = $("steps");
	const items = D.steps.map((s, k) => {
		const li = el("li", (s.depth ? "nested" : "") + (k === D.failed ? " fail" : ""));
		li.append(el("span", "ln", String(s.line)), s.text + "  ", el("span", "res", "\u2192 " + s.res));
		li.title = "step " + (k + 1) + (s.depth ? " (inside the race window of the step after it)" : "");
		li.addEventListener("click", () => goTo(k));
		list.append(li);
		return li;
	});
	for (const s of D.notrun) {
		const li = el("li", "notrun");
		li.append(el("span", "ln", String(s.line)), s.text + "  (not run)");
		list.append(li);
	}

	const legend = $("legend");
	D.states.forEach((s) => {
		const span = el("span");
		const sw = el("i");
		sw.style.background = s.color;
		span.append(sw, s.name);
		span.title = s.what;
		legend.append(span);
	});

	const grids = D.regions.map((r, i) => {
		const box = el("div", "region");
		const h = el("h3", "", r.name + " ");
		h.append(el("span", "meta", r.proc + ", " + (r.file ? "file " + r.file : "anonymous") + ", " +
			r.pages + " pages at " + r.start));
		const counts = el("div", "counts");
		const canvas = el("canvas", "grid");
		canvas.dataset.region = r.name;
		const hover = el("div", "hover", "\u00a0");
		const G = { box, canvas, counts, layout: null };
		canvas.addEventListener("mousemove", (ev) => {
			const b = canvas.getBoundingClientRect();
			const at = G.layout && pageAt(G.layout, ev.clientX - b.left - 1, ev.clientY - b.top - 1);
			if (!at) return;
			const c = cells[i];
			hover.textContent = at.n === 1
				? r.name + " page " + at.first + " (" + pageAddr(r, at.first) + "): " + D.states[c[at.first]].name
				: r.name + " pages " + at.first + "-" + (at.first + at.n - 1) + ": " + D.states[c[at.first]].name;
		});
		box.append(h, counts, canvas, hover);
		$("grids").append(box);
		return G;
	});

	if (V) {
		const v = $("violation");
		v.hidden = false;
		v.append(el("h2", "", "First violation: " + V.invariant));
		const t = el("table");
		const row = (k, val) => {
			const tr = el("tr");
			tr.append(el("td", "", k), el("td", "mono", val));
			t.append(tr);
		};
		row("step", (V.step + 1) + " (trace line " + V.line + ")");
		row("address", V.proc + ":" + V.address + (V.region !== null ? " = region " + V.region + " page " + V.page : ""));
		row("before", V.before + " [" + V.before_state + "]");
		row("after", V.after + " [" + V.after_state + "]");
		row("why", V.detail || "\u2014");
		v.title = V.message;
		v.append(t);
	} else if (D.failed >= 0) {
		const v = $("violation");
		v.hidden = false;
		v.append(el("h2", "", "Failed at step " + (D.failed + 1) + " (trace line " + D.steps[D.failed].line + ")"));
		v.append(el("div", "mono", D.steps[D.failed].fail));
	}
	$("jump").disabled = failAt < 0;

	const slider = $("slider");
	slider.min = 0;
	slider.max = Math.max(0, N - 1);
	slider.addEventListener("input", () => goTo(Number(slider.value)));
	$("first").addEventListener("click", () => goTo(0));
	$("prev").addEventListener("click", () => goTo(cur - 1));
	$("next").addEventListener("click", () => goTo(cur + 1));
	$("last").addEventListener("click", () => goTo(N - 1));
	$("jump").addEventListener("click", () => goTo(failAt));
	document.addEventListener("keydown", (ev) => {
		if (ev.target && ev.target.tagName === "INPUT") return;
		const to = { ArrowLeft: cur - 1, ArrowRight: cur + 1, Home: 0, End: N - 1 }[ev.key];
		if (to !== undefined) {
			goTo(to);
			ev.preventDefault();
		} else if (ev.key === "v" && failAt >= 0) {
			goTo(failAt);
		}
	});

	/* --- per step --- */
	function drawRegion(i) {
		const r = D.regions[i], G = grids[i], c = cells[i];
		G.box.hidden = r.first > cur;
		if (G.box.hidden) return;
		const runs = D.steps[cur].runs;
		const mark = new Uint8Array(r.pages);
		for (let j = 0; j < runs.length; j += 4)
			if (runs[j] === i) mark.fill(1, runs[j + 1], runs[j + 1] + runs[j + 2]);
		const bad = V && cur === V.step && V.region === r.name ? V.page : -1;
		const n = new Array(D.states.length).fill(0);
		for (let p = 0; p < r.pages; p++) n[c[p]]++;
		G.counts.textContent = "";
		n.forEach((cnt, s) => {
			if (!cnt) return;
			const span = el("span");
			const sw = el("i");
			sw.style.background = D.states[s].color;
			span.append(sw, D.states[s].name + " " + cnt);
			G.counts.append(span);
		});
		const L = (G.layout = layout(i));
		G.canvas.width = L.w;
		G.canvas.height = L.h;
		const ctx = G.canvas.getContext("2d");
		ctx.fillStyle = "#d0d0d0";
		ctx.fillRect(0, 0, L.w, L.h);
		ctx.font = "11px sans-serif";
		ctx.textBaseline = "middle";
		for (const sg of L.segs) {
			const end = sg.first + sg.n;
			let changed = false;
			for (let p = sg.first; p < end && !changed; p++) changed = mark[p] === 1;
			if (sg.kind === "cells") {
				for (let p = 0; p < sg.n; p++) {
					const x = 1 + (p % sg.cols) * (CELL + 1), y = 1 + Math.floor(p / sg.cols) * (CELL + 1);
					ctx.fillStyle = D.states[c[p]].color;
					ctx.fillRect(x, y, CELL, CELL);
					if (mark[p]) {
						/* A dot that shows on light and dark colours. */
						ctx.fillStyle = luminous(c[p]) ? "#000" : "#fff";
						ctx.fillRect(x + CELL / 2 - 2, y + CELL / 2 - 2, 4, 4);
					}
					if (p === bad) {
						ctx.strokeStyle = "#ff1744";
						ctx.lineWidth = 3;
						ctx.strokeRect(x - 1, y - 1, CELL + 2, CELL + 2);
					}
				}
				continue;
			}
			ctx.fillStyle = "#fff";
			ctx.fillRect(0, sg.y, GUTTER, sg.h);
			if (changed || (bad >= sg.first && bad < end)) {
				ctx.fillStyle = bad >= sg.first && bad < end ? "#ff1744" : "#000";
				ctx.fillRect(1, sg.y, GUTTER - 3, sg.h);
			}
			if (sg.kind === "band") {
				ctx.fillStyle = D.states[sg.state].color;
				ctx.fillRect(GUTTER, sg.y, ROW, sg.h);
				ctx.fillStyle = luminous(sg.state) ? "#333" : "#fff";
				ctx.fillText("pages " + sg.first + "\u2013" + (end - 1) + ": " + D.states[sg.state].name +
					" (" + sg.n / ROW + " \u00d7 2 MiB)", GUTTER + 6, sg.y + sg.h / 2 + 1);
			} else {
				for (let p = sg.first; p < end;) {
					let q = p + 1;
					while (q < end && c[q] === c[p]) q++;
					ctx.fillStyle = D.states[c[p]].color;
					ctx.fillRect(GUTTER + p - sg.first, sg.y, q - p, sg.h);
					p = q;
				}
			}
			if (bad >= sg.first && bad < end) {
				ctx.strokeStyle = "#ff1744";
				ctx.lineWidth = 2;
				ctx.strokeRect(GUTTER + bad - sg.first - 2, sg.y - 1, 5, sg.h + 2);
			}
		}
	}

	function drawQueues() {
		const box = $("queues");
		box.textContent = "";
		box.append(el("h2", "", "userfaultfd queues"));
		const q = qAt[cur] >= 0 ? D.steps[qAt[cur]].q : [];
		if (!q.length) box.append(el("div", "muted", "no userfaultfd context"));
		for (const u of q) {
			const d = el("div", "queue");
			d.append(el("b", "", u.name), ": " + u.msgs.length + " message(s), " + u.waiting.length + " waiter(s)");
			const ul = el("ul");
			for (const m of u.msgs) ul.append(el("li", "", m));
			for (const w of u.waiting) ul.append(el("li", "muted", "asleep: " + w));
			if (ul.childElementCount) d.append(ul);
			box.append(d);
		}
	}

	function render(moves) {
		const s = D.steps[cur];
		items.forEach((li, k) => li.classList.toggle("cur", k === cur));
		items[cur].scrollIntoView({ block: "nearest" });
		slider.value = cur;
		$("pos").textContent = "step " + (cur + 1) + " of " + N;
		const info = $("stepinfo");
		info.textContent = "";
		info.append("line " + s.line + ": ", el("span", "text", s.text), " \u2192 " + s.res);
		const changes = el("div", "muted");
		if (!moves.size) changes.textContent = "no page changed state";
		else changes.textContent = "changed (dotted in the grid): " +
			[...moves].map(([key, n]) => key + " \u00d7" + n).join(", ");
		info.append(changes);
		if (s.depth) info.append(el("div", "muted", "ran inside the race window of the step listed after it"));
		$("violation").classList.toggle("here", cur === failAt);
		D.regions.forEach((r, i) => drawRegion(i));
		drawQueues();
	}

	function goTo(k) {
		if (!N) return;
		k = Math.max(0, Math.min(N - 1, k));
		if (k <= cur) {
			cells.forEach((c) => c.fill(UNMAPPED));
			cur = -1;
		}
		while (cur < k - 1) apply(++cur, null);
		const moves = new Map();
		apply(++cur, moves);
		render(moves);
	}

	goTo(failAt >= 0 ? failAt : N - 1);
	document.body.dataset.ready = "1";
})();
