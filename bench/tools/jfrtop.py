#!/usr/bin/env python3
# Top frames per thread of a JFR recording: python3 jfrtop.py $JAVA_HOME/bin/jfr recording.jfr [top=15]
# (self = the sampled frame; inclusive = anywhere on the stack), from jdk.ExecutionSample events.
import json, subprocess, sys, collections
jfr, path = sys.argv[1], sys.argv[2]
top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
out = subprocess.run([jfr, 'print', '--json', '--stack-depth', '64', '--events', 'jdk.ExecutionSample', path], capture_output=True, text=True).stdout
events = json.loads(out)['recording']['events']
by_thread = collections.Counter()
self_by_thread = collections.defaultdict(collections.Counter)
incl_by_thread = collections.defaultdict(collections.Counter)
def name(f):
    m = f['method']
    return m['type']['name'].split('.')[-1] + '.' + m['name']
for e in events:
    v = e['values']
    t = v['sampledThread']['javaName'] if v.get('sampledThread') else '?'
    frames = v['stackTrace']['frames'] if v.get('stackTrace') else []
    by_thread[t] += 1
    if frames:
        self_by_thread[t][name(frames[0])] += 1
        seen = set()
        for f in frames:
            n = name(f)
            if n not in seen:
                seen.add(n)
                incl_by_thread[t][n] += 1
total = sum(by_thread.values())
print(f'samples: {total}')
for t, c in by_thread.most_common():
    print(f'\n== thread {t}: {c} samples ({100*c/total:.1f}%)')
    print('  self:')
    for n, k in self_by_thread[t].most_common(top):
        print(f'    {100*k/c:5.1f}%  {n}')
    print('  inclusive:')
    for n, k in incl_by_thread[t].most_common(top):
        print(f'    {100*k/c:5.1f}%  {n}')
