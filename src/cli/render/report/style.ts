// The report's one stylesheet: system fonts only, light and dark schemes, printable.
export const STYLE = `
:root{color-scheme:light dark;--bg:#fdfdfc;--fg:#1d232b;--mute:#5d6875;--line:#d9dee4;--card:#f3f5f7;--accent:#2f6fb3;
--heap:#d9822b;--stack:#8e5bb5;--anon:#2f8f83;--shared:#c2417a;--file:#4a79c2;--vdso:#8a929b;
--pipe:#2f8f83;--unix:#8e5bb5;--tcp:#d9822b;--udp:#b09020;--file-c:#4a79c2;--shm:#c2417a;--hot:#d23c2f;--cold:#e9ecef}
@media (prefers-color-scheme:dark){:root{--bg:#15191e;--fg:#e3e7ec;--mute:#9aa5b1;--line:#2d343c;--card:#1e242b;--accent:#78a9e0;
--cold:#262d35;--heap:#f0a050;--anon:#4cbfb0;--file:#7aa5ea;--shared:#e7689f;--stack:#b58ae0;--pipe:#4cbfb0;--unix:#b58ae0;--tcp:#f0a050;--file-c:#7aa5ea;--shm:#e7689f}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:14px 0 6px}
code,.mono,td.num,.addr{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
.mute{color:var(--mute)}.sub{color:var(--mute);margin:0 0 12px;word-break:break-all}
nav{display:flex;flex-wrap:wrap;gap:6px 14px;margin:10px 0 4px;font-size:13px}nav a{color:var(--accent);text-decoration:none}
.facts{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.fact{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:6px 10px;min-width:110px}
.fact b{display:block;font-size:17px}.fact span{color:var(--mute);font-size:12px}
.container{background:var(--card);border-left:4px solid var(--accent);padding:8px 12px;border-radius:4px;margin:10px 0}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--mute);font-size:12px}td.num,th.num{text-align:right;white-space:nowrap}
ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:22px}ul.tree{padding-left:0}
ul.tree ul{border-left:1px dashed var(--line);margin-left:8px}
.proc{margin:6px 0}.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:6px 10px;display:inline-block;min-width:min(640px,100%)}
.card .title{font-weight:600}.card .pid{color:var(--accent);font-family:ui-monospace,monospace}.card dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 12px;margin:4px 0 0;font-size:12.5px}
.card dt{color:var(--mute)}.card dd{margin:0;word-break:break-all}
.tag{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;background:var(--line);margin-left:6px;color:var(--fg)}
svg{max-width:100%;height:auto;display:block}svg text{fill:var(--fg);font-size:12px;font-family:system-ui,sans-serif}svg text.mute{fill:var(--mute)}
svg .node rect{fill:var(--card);stroke:var(--line)}svg .node.ext rect{fill:none;stroke:var(--mute);stroke-dasharray:4 3}
.conn path{fill:none;stroke-width:3;stroke-linecap:round}svg line.guide{stroke:var(--line);stroke-width:1}.k-pipe{stroke:var(--pipe);fill:var(--pipe)}.k-unix{stroke:var(--unix);fill:var(--unix)}.k-tcp{stroke:var(--tcp);fill:var(--tcp)}
.k-udp{stroke:var(--udp);fill:var(--udp)}.k-file{stroke:var(--file-c);fill:var(--file-c)}.k-shm{stroke:var(--shm);fill:var(--shm)}
.m-heap{fill:var(--heap);background:var(--heap)}.m-stack{fill:var(--stack);background:var(--stack)}.m-anon{fill:var(--anon);background:var(--anon)}
.m-shared{fill:var(--shared);background:var(--shared)}.m-file{fill:var(--file);background:var(--file)}.m-vdso{fill:var(--vdso);background:var(--vdso)}
i.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
rect.mapped{opacity:.28}rect.track{fill:var(--cold)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--mute);margin:4px 0 8px}.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.legend i.line{height:3px;vertical-align:3px}
details{margin:0}table.groups td{padding:1px 8px}table.groups details summary{font-size:12px}summary{cursor:pointer;color:var(--accent)}
.heat rect.cell{stroke:var(--bg);stroke-width:1}
.add{color:#2b8a3e}.del{color:#c92a2a}.chg{color:#b7791f}
@media (prefers-color-scheme:dark){.add{color:#69db7c}.del{color:#ff8787}.chg{color:#f6c350}}
.phase{font-size:12px}
@media print{body{background:#fff;color:#000;font-size:11px}main{max-width:none;padding:0}nav{display:none}h2{break-after:avoid}
.card,table,svg,.fact{break-inside:avoid}details>summary{color:#000}}
`;
