# What the bench/run-*.sh scripts share; sourced, with OUT (the output directory) and SUMMARY
# (an extended regular expression for the lines to echo) set.
#
# run NAME command...: runs the command, keeps its whole output in $OUT/NAME.txt between lines
# giving the time and the load average at its start and end, and echoes the SUMMARY lines.
# PRIO=1 runs it in a session of its own whose autogroup gets nice -10. On a machine shared
# with other sessions' builds this is what makes the figures repeatable: with
# kernel.sched_autogroup_enabled=1, plain `nice` has no effect against processes of other
# sessions. Needs root (lowering a nice value).
run() {
    local name=$1
    shift
    local prefix=()
    if [ "${PRIO:-0}" = 1 ]; then
        prefix=(setsid --wait bash -c 'echo -10 > /proc/$$/autogroup; exec "$@"' prio)
    fi
    {
        echo "### $name: $*"
        echo "### start $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
        "${prefix[@]}" "$@" 2>&1
        echo "### end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
    } > "$OUT/$name.txt"
    grep -E "$SUMMARY" "$OUT/$name.txt" | sed "s/^/$name: /"
}
