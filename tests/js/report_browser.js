// report_browser.js - opens report.html (and flame SVGs) in headless /usr/bin/chromium: screenshot,
// no console errors, a click on a flame frame zooms it to the full width, search (by API and by
// keyboard: / and Ctrl-F), tabs, runs collapsed and expanded, the timeline's wheel zoom, drag
// and double-click reset, the links to the folder's files, and the page at 800 px wide.
//
//   node tests/js/report_browser.js REPORT.html SCREENSHOT.png [FLAME.svg ...]
//
// Prints one JSON object with what it saw; exits 1 when a check failed, 2 when it could not run.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.IOTRACE_CHROMIUM || '/usr/bin/chromium';
// Fixed flags: headless, no sandbox (root in a container), nothing that talks to the network.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

function check(result, ok, what) {
	result.checks.push({ ok: !!ok, what });
	if (!ok)
		result.failed.push(what);
}

// Collect every console error, uncaught exception and failed request of a page.
function watch(page, result) {
	page.on('console', (m) => {
		if (m.type() === 'error')
			result.console_errors.push(m.text());
	});
	page.on('pageerror', (e) => result.console_errors.push(String(e)));
	page.on('requestfailed', (r) => result.console_errors.push('request failed: ' + r.url()));
	page.on('request', (r) => {
		if (!r.url().startsWith('file:') && !r.url().startsWith('data:'))
			result.external_requests.push(r.url());
	});
}

// Click the widest frame below the root that is not (nearly) full width, by mouse, and read back
// its rect. A real run's graph can be one dominant path (95% MD5) plus slivers: any frame
// narrower than the graph and wide enough to hit will do, at any depth but the root.
async function clickZoom(page, svgSel, result, label) {
	const target = await page.evaluate((sel) => {
		const svg = document.querySelector(sel);
		if (!svg || !svg.fgF)
			return null;
		const W = +svg.getAttribute('data-w');
		const root = svg.fgF[0];
		let best = -1;
		// frames a zoom on z hides: neither inside it (a descendant) nor around it (an ancestor)
		const outside = (z) => svg.fgF.some((g) =>
			!(g.x >= z.x - 0.02 && g.x + g.w <= z.x + z.w + 0.02) &&
			!(g.x <= z.x + 0.02 && g.x + g.w >= z.x + z.w - 0.02));
		svg.fgF.forEach((f, i) => {
			const depth = Math.round((root.y - f.y) / 16);
			if (depth >= 1 && f.w < W * 0.98 && f.w > 10 && (best < 0 || f.w > svg.fgF[best].w) &&
			    outside(f))
				best = i;
		});
		if (best < 0)
			return null;
		const f = svg.fgF[best];
		f.r.scrollIntoView({ block: 'center' });
		return { i: best, name: f.n, w: f.w, W };
	}, svgSel);
	check(result, target, label + ': a frame to click');
	if (!target)
		return;
	const box = await page.evaluate(({ sel, i }) => {
		const r = document.querySelector(sel).fgF[i].r.getBoundingClientRect();
		return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
	}, { sel: svgSel, i: target.i });
	await page.mouse.click(box.x, box.y);
	const after = await page.evaluate(({ sel, i }) => {
		const svg = document.querySelector(sel);
		const f = svg.fgF[i];
		const hidden = svg.fgF.filter((g) => g.g.style.display === 'none').length;
		return { w: +f.r.getAttribute('width'), x: +f.r.getAttribute('x'),
			L: +svg.getAttribute('data-l'), hidden,
			reset: svg.getElementsByClassName('fg-reset')[0].style.display !== 'none' };
	}, { sel: svgSel, i: target.i });
	result.zoom[label] = { frame: target.name, width_before: target.w, width_after: after.w };
	check(result, Math.abs(after.w - target.W) < 0.01 && Math.abs(after.x - after.L) < 0.01,
		label + ': clicked frame "' + target.name + '" zoomed to the full width');
	check(result, after.hidden > 0, label + ': frames outside the zoomed one are hidden');
	check(result, after.reset, label + ': "Reset zoom" is offered');
	// search: highlight and the matched share
	const matched = await page.evaluate(({ sel, name }) => {
		const svg = document.querySelector(sel);
		const share = svg.fgSearch(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
		return { share, text: svg.getElementsByClassName('fg-matched')[0].textContent };
	}, { sel: svgSel, name: target.name });
	check(result, matched.share > 0 && /^Matched: /.test(matched.text),
		label + ': search highlights "' + target.name + '" (' + matched.text + ')');
	// reset
	await page.evaluate((sel) => {
		const svg = document.querySelector(sel);
		svg.getElementsByClassName('fg-reset')[0].dispatchEvent(new MouseEvent('click', { bubbles: true }));
	}, svgSel);
	const back = await page.evaluate(({ sel, i }) =>
		+document.querySelector(sel).fgF[i].r.getAttribute('width'), { sel: svgSel, i: target.i });
	check(result, Math.abs(back - target.w) < 0.01, label + ': reset zoom restores the width');
}

// Runs open at first, then after "Collapse all" and "Expand all".
async function collapseExpand(page, result) {
	const openNow = () => page.evaluate(() =>
		Array.from(document.querySelectorAll('details.run')).filter((d) => d.open)
			.map((d) => d.querySelector('summary').firstChild.textContent.trim()));
	result.open_at_first = await openNow();
	const all = await page.evaluate(() => document.querySelectorAll('details.run').length);
	await page.click('button.all[data-open="0"]');
	check(result, (await openNow()).length === 0, 'Collapse all closes every run');
	await page.click('button.all[data-open="1"]');
	check(result, (await openNow()).length === all, 'Expand all opens every run (' + all + ')');
	const shown = await page.evaluate(() => Array.from(document.querySelectorAll('details.run'))
		.every((d) => d.querySelector('.panel.on svg').getBoundingClientRect().width > 0));
	check(result, shown, 'every expanded run shows its graph');
}

// Wheel over the first timeline zooms about the pointer, a drag pans, a double click resets.
async function timelineZoom(page, result) {
	const box = await page.evaluate(() => {
		const svg = document.querySelector('details.run[open] svg.tl');
		if (!svg || !svg.tlView)
			return null;
		svg.scrollIntoView({ block: 'center' });
		const r = svg.getBoundingClientRect(), k = r.width / svg.viewBox.baseVal.width;
		const x0 = +svg.getAttribute('data-x0'), pw = +svg.getAttribute('data-pw');
		return { x: r.x + (x0 + pw / 2) * k, y: r.y + 80 * k, k, pw };
	});
	check(result, box, 'a timeline with zoom');
	if (!box)
		return;
	const view = () => page.evaluate(() => document.querySelector('details.run[open] svg.tl').tlView());
	const full = await view();
	await page.mouse.move(box.x, box.y);
	for (let i = 0; i < 4; i++)
		await page.mouse.wheel(0, -100);
	const zoomed = await view();
	const mid = (full.start + full.end) / 2;
	check(result, zoomed.end - zoomed.start < (full.end - full.start) * 0.5 &&
		zoomed.start < mid && zoomed.end > mid,
		'the wheel zooms the timeline about the pointer (' + JSON.stringify(zoomed) + ')');
	await page.mouse.move(box.x, box.y);
	await page.mouse.down();
	await page.mouse.move(box.x - 100 * box.k, box.y, { steps: 5 });
	await page.mouse.up();
	const panned = await view();
	check(result, panned.start > zoomed.start &&
		Math.abs((panned.end - panned.start) - (zoomed.end - zoomed.start)) < 1e-6 * full.ms,
		'a drag pans the zoomed timeline (' + JSON.stringify(panned) + ')');
	// zoomed, the window is drawn again from finer data: the state runs drawn in it, against
	// those the 960 overview columns have there (the test of the real report asks for more)
	const detail = () => page.evaluate(() => document.querySelector('details.run[open] svg.tl').tlDetail());
	const fine = await detail();
	await page.mouse.move(box.x, box.y);
	for (let i = 0; i < 16; i++) // 86 times the overview: the finest levels (4 per step)
		await page.mouse.wheel(0, -100);
	const finer = await detail();
	check(result, fine.level >= 1 && finer.level > fine.level && finer.cols > fine.cols,
		'zooming in draws from finer levels (' + JSON.stringify([fine, finer]) + ')');
	await page.mouse.dblclick(box.x, box.y);
	const reset = await view();
	check(result, reset.start === 0 && Math.abs(reset.end - full.end) < 1e-9,
		'a double click shows the whole run again');
	const overview = await detail();
	check(result, overview.level === 0 && overview.shown === overview.coarse,
		'reset, the overview (960 columns) is shown again (' + JSON.stringify(overview) + ')');
	result.timeline = { full, zoomed, panned, reset, fine, finer, overview };
}

// "/" over a flame graph starts a search by keyboard, typed text highlights as it goes,
// Enter keeps it; Ctrl-F over a graph does the same.
async function keyboardSearch(page, result) {
	const box = await page.evaluate(() => {
		const svg = document.querySelector('details.run[open] .panel.on svg.fg');
		if (!svg || !svg.fgTyping)
			return null;
		svg.scrollIntoView({ block: 'center' });
		const r = svg.getBoundingClientRect();
		return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
	});
	check(result, box, 'a flame graph to search');
	if (!box)
		return;
	await page.mouse.move(box.x, box.y);
	const state = () => page.evaluate(() => {
		const svg = document.querySelector('details.run[open] .panel.on svg.fg');
		return { typing: svg.fgTyping(),
			matched: svg.getElementsByClassName('fg-matched')[0].textContent };
	});
	await page.keyboard.press('/');
	await page.keyboard.type('comp');
	let st = await state();
	check(result, st.typing === 'comp' && /^Matched: /.test(st.matched),
		'/ then typing searches the graph (' + JSON.stringify(st) + ')');
	await page.keyboard.press('Enter');
	st = await state();
	check(result, st.typing === null && /^Matched: /.test(st.matched),
		'Enter ends the typing and keeps the highlight');
	await page.keyboard.press('Control+f');
	await page.keyboard.type('zzz-no-such-frame');
	st = await state();
	check(result, st.typing === 'zzz-no-such-frame' && st.matched === 'No match',
		'Ctrl-F over a graph searches it too (' + JSON.stringify(st) + ')');
	await page.keyboard.press('Escape');
	st = await state();
	check(result, st.typing === null && st.matched === '', 'Escape clears the search');
}

// Every link to a file of the folder leads to a file there (when the page is in its folder).
function checkLinks(hrefs, html, result) {
	const dir = path.dirname(path.resolve(html));
	if (!fs.existsSync(path.join(dir, 'summary.json'))) {
		result.links = null; // a page without its folder (the golden)
		return;
	}
	const local = hrefs.filter((h) => !/^[a-z]+:/.test(h));
	const missing = local.filter((h) => !fs.existsSync(path.join(dir, decodeURI(h))));
	result.links = { local: local.length, missing };
	check(result, local.length > 0 && missing.length === 0,
		local.length + ' links to files of the folder, missing: ' + missing.join(' '));
}

// At 800 px: no sideways scrolling of the page, text no smaller than 10 px in the graphs.
async function narrow(ctx, html, shot, result) {
	const page = await ctx.newPage();
	watch(page, result);
	await page.setViewportSize({ width: 800, height: 900 });
	await page.goto('file://' + path.resolve(html), { waitUntil: 'load' });
	await page.screenshot({ path: shot.replace(/\.png$/, '') + '-800.png' });
	const m = await page.evaluate(() => {
		const px = (sel) => {
			const svg = document.querySelector(sel);
			if (!svg)
				return null;
			return svg.getBoundingClientRect().width / svg.viewBox.baseVal.width * 12;
		};
		return { width: document.documentElement.scrollWidth,
			body: parseFloat(getComputedStyle(document.body).fontSize),
			flame: px('details.run[open] .panel.on svg.fg'),
			timeline: px('details.run[open] svg.tl'), bars: px('svg.bars') };
	});
	result.narrow = m;
	check(result, m.width <= 800, 'no horizontal scrolling of the page at 800 px (' + m.width + ')');
	for (const k of ['flame', 'timeline', 'bars'])
		check(result, m[k] === null || m[k] >= 10, k + ' text at 800 px: ' + m[k] + ' px');
	await page.close();
}

async function main() {
	const [html, shot, ...svgs] = process.argv.slice(2);
	if (!html || !shot) {
		console.error('usage: report_browser.js REPORT.html SCREENSHOT.png [FLAME.svg ...]');
		process.exit(2);
	}
	const result = { checks: [], failed: [], console_errors: [], external_requests: [], zoom: {},
		screenshot: path.resolve(shot) };
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'iotrace-chromium-'));
	let ctx;
	try {
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM, headless: true, args: ARGS,
			viewport: { width: 1366, height: 768 }, // a laptop screen
		});
		const page = await ctx.newPage();
		watch(page, result);
		await page.goto('file://' + path.resolve(html), { waitUntil: 'load' });
		result.title = await page.title();
		await page.screenshot({ path: shot });
		await page.screenshot({ path: shot.replace(/\.png$/, '') + '-full.png', fullPage: true });

		const layout = await page.evaluate(() => ({
			width: document.documentElement.scrollWidth,
			runs: document.querySelectorAll('details.run').length,
			flames: document.querySelectorAll('svg.fg').length,
			timelines: document.querySelectorAll('svg.tl').length,
			rows: document.querySelectorAll('table tr').length,
		}));
		result.layout = layout;
		// "where the time went": the segments split by what the waits were for, as drawn
		// (rendered width) and as their tooltips say
		result.bar_kinds = await page.evaluate(() =>
			Array.from(document.querySelectorAll('svg.bars rect[data-kind]')).map((r) => ({
				kind: r.getAttribute('data-kind'),
				title: (r.querySelector('title') || {}).textContent || '',
				px: r.getBoundingClientRect().width,
			})));
		check(result, layout.width <= 1366, 'no horizontal scrolling at 1366 px (' + layout.width + ')');
		check(result, layout.runs > 0 && layout.timelines === layout.runs, 'a timeline per run');
		check(result, layout.flames >= 3 * layout.runs, 'flame graphs for every run');

		// a click on a frame of the first run's wall-clock graph zooms it
		await clickZoom(page, 'details.run .panel.on svg.fg', result, 'report.html');

		// the tabs switch graphs
		const tab = await page.$('details.run .tabs button[data-tab="oncpu"]');
		check(result, tab, 'an On-CPU tab');
		if (tab) {
			await tab.click();
			const shown = await page.evaluate(() => {
				const p = document.querySelector('details.run .panel[data-tab="oncpu"]');
				return p && getComputedStyle(p).display !== 'none';
			});
			check(result, shown, 'the On-CPU tab shows its graph');
			await page.click('details.run .tabs button[data-tab="wall"]');
		}
		await collapseExpand(page, result);
		await timelineZoom(page, result);
		await keyboardSearch(page, result);
		checkLinks(await page.evaluate(() => Array.from(document.querySelectorAll('a[href]'))
			.map((a) => a.getAttribute('href'))), html, result);
		await page.close();
		await narrow(ctx, html, shot, result);

		// standalone SVG files: the same script runs as the document's own
		for (const svg of svgs) {
			const p = await ctx.newPage();
			watch(p, result);
			await p.goto('file://' + path.resolve(svg), { waitUntil: 'load' });
			await clickZoom(p, 'svg', result, path.basename(svg));
			await p.close();
		}
		check(result, result.console_errors.length === 0,
			'no console errors (' + result.console_errors.join(' | ') + ')');
		check(result, result.external_requests.length === 0,
			'no external requests (' + result.external_requests.join(' ') + ')');
	} catch (e) {
		result.error = String(e && e.stack || e);
		result.failed.push('browser run failed: ' + String(e));
	} finally {
		if (ctx)
			await ctx.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
	console.log(JSON.stringify(result, null, 1));
	process.exit(result.error ? 2 : result.failed.length ? 1 : 0);
}

main();
