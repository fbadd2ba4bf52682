/* WCAG 2.x contrast of every visible text on the page (HTML and SVG): [] when all pass.
   Large text (24 px, or 18.66 px bold) needs 3:1, the rest 4.5:1; inactive controls are exempt. */
(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3]; return [0,1,2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  // Every colour the text may sit on: the stops of a gradient behind it, else the solid layers.
  // A .table-scroll's gradients are its scroll shadows: 10 px at an edge that has more to scroll
  // to, under content cut by that edge, and covers in the panel's own colour; the text sits on
  // what is under it.
  const backgrounds = el => { const layers = []; for (let e = el; e; e = e.parentElement) {
      if (e.classList.contains('table-scroll')) continue;
      const s = getComputedStyle(e);
      const stops = (s.backgroundImage.match(/rgba?\([^)]+\)/g) || []).map(parse);
      if (stops.length) return stops.map(c => over(c, [255, 255, 255, 1]));
      const bg = parse(s.backgroundColor); if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; } }
    let c = [255, 255, 255, 1]; for (let i = layers.length - 1; i >= 0; i--) c = over(layers[i], c); return [c]; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const t = walker.currentNode; if (!t.textContent.trim()) continue;
    const el = t.parentElement; if (!el || seen.has(el)) continue; seen.add(el);
    if (el.closest('script, style, noscript, title')) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible' || !el.getClientRects().length) continue;
    const r = el.getBoundingClientRect(); if (r.width < 1 || r.height < 1) continue;
    const ctl = el.closest('label') && el.closest('label').control;
    if (ctl && ctl.disabled) continue;  // an inactive control: WCAG 1.4.3 exempts it
    const svg = el.closest('svg');
    let fg = parse(svg ? cs.fill : cs.color); if (!fg) continue;
    // Percentages inside donut slices sit on the slice's own fill, not on the page.
    const slice = el.closest('.slice');
    const bgs = slice ? [parse(getComputedStyle(slice.querySelector('path')).fill)] :
      backgrounds(svg ? svg.parentElement : el);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
    const k = Math.min(...bgs.map(bg => ratio(over(fg, bg), bg)));
    if (k < need) out.push({text: t.textContent.trim().slice(0, 40), ratio: Math.round(k * 100) / 100, need,
                            color: svg ? cs.fill : cs.color, cls: (el.className.baseVal ?? el.className).toString().slice(0, 40), id: el.id});
  }
  return out;
})
