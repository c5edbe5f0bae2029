#!/usr/bin/env node
// Render TeX math with real KaTeX and MathJax 3 and report every failure.
//
// Input (stdin): one JSON object per line, {"id": ..., "latex": "...", "display": true|false}.
// Output (stdout): one JSON object per input line, in order:
//   {"id": ..., "katex": null | "error", "katex_warnings": [...], "mathjax": null | "error"}
// Engines to run are named on the command line (default: katex mathjax).
//
// KaTeX: katex.renderToString(latex, {displayMode, throwOnError: true}); strict-mode
// complaints are collected as warnings instead of being printed.
// MathJax 3: tex2svg through mathjax-full with every TeX package except "noundefined"
// and "noerrors" (which would turn an unknown macro or a parse error into red text),
// and formatError rethrowing, so every TeX error is a failure.  \bm (from LaTeX's bm
// package, which KaTeX knows) is defined as \boldsymbol, as MathJax sites configure it.

"use strict";

const readline = require("readline");

const engines = process.argv.slice(2).length ? process.argv.slice(2) : ["katex", "mathjax"];

function katexCheck() {
  const katex = require("katex");
  return (latex, display) => {
    const warnings = [];
    try {
      katex.renderToString(latex, {
        displayMode: display,
        throwOnError: true,
        strict: (code, message) => {
          warnings.push(`${code}: ${message}`);
          return "ignore";
        },
      });
      return { katex: null, katex_warnings: warnings };
    } catch (err) {
      return { katex: String(err && err.message ? err.message : err), katex_warnings: warnings };
    }
  };
}

function mathjaxCheck() {
  const { mathjax } = require("mathjax-full/js/mathjax.js");
  const { TeX } = require("mathjax-full/js/input/tex.js");
  const { SVG } = require("mathjax-full/js/output/svg.js");
  const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
  const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
  const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");

  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  const packages = AllPackages.filter((name) => name !== "noundefined" && name !== "noerrors");
  const tex = new TeX({
    packages,
    macros: { bm: ["\\boldsymbol{#1}", 1] },
    formatError: (jax, err) => {
      throw err;
    },
  });
  const doc = mathjax.document("", { InputJax: tex, OutputJax: new SVG({ fontCache: "none" }) });
  return (latex, display) => {
    try {
      const node = doc.convert(latex, { display });
      const html = adaptor.outerHTML(node);
      if (html.includes('data-mml-node="merror"')) {
        return { mathjax: "merror node in the output" };
      }
      return { mathjax: null };
    } catch (err) {
      return { mathjax: String(err && err.message ? err.message : err) };
    }
  };
}

const checks = engines.map((name) => {
  if (name === "katex") return katexCheck();
  if (name === "mathjax") return mathjaxCheck();
  throw new Error(`unknown engine ${name}; use katex and/or mathjax`);
});

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (!line.trim()) return;
  const item = JSON.parse(line);
  const report = { id: item.id };
  for (const check of checks) Object.assign(report, check(item.latex, Boolean(item.display)));
  process.stdout.write(JSON.stringify(report) + "\n");
});
