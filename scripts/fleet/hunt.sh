#!/usr/bin/env bash
# The shell steps of the fleet hunt (.github/workflows/hunt.yml) and of the
# composite action (action.yml). Both run this script and nothing else, and
# tests/it/fleet.rs runs it on a development machine, so what is tested is
# what a runner runs.
#
#   hunt.sh toolchain          install the Rust toolchain FLEET_TOOLCHAIN (runners only)
#   hunt.sh bench OUT_DIR      per-runner job: the bench grid here; <label>.json and
#                              <label>.html into OUT_DIR (the artifact), summary
#   hunt.sh compare IN OUT     compare job: every report under IN side by side in OUT
#                              (index.html, index.md, compare.md, compare.html), summary
#   hunt.sh action             the action: one `unlink-race run` in INPUT_DIR, summary;
#                              in mode emulate, INPUT_COMMAND under `unlink-race emulate`
#   hunt.sh verdict            the action's last step: pass, warn or fail by INPUT_MODE
#
# Settings, from the environment (the workflow and the action map their inputs
# here; an empty value counts as unset):
#   FLEET_RUNNER         runner image, the first part of the label  [local]
#   FLEET_ZOMBIEFS       1: the positive control, the grid on zombiefs (root, or sudo)
#   FLEET_MEASUREMENT_S  seconds Criterion measures each scenario    [the grid's own]
#   FLEET_WARM_UP_S      seconds Criterion warms up each scenario    [the grid's own]
#   FLEET_PROFILE        cargo profile to build with   [bench for the bench, release]
#   FLEET_TOOLCHAIN      rustup toolchain to build with              [the default one]
#   FLEET_FEATURES       cargo features of the unlink-race binary    [none]
#   FLEET_BASELINE       label of the report the others are compared with
#                        [the first ubuntu report that is not zombiefs, else the first]
#   UNLINK_RACE_QUICK (default 1 here), UNLINK_RACE_READERS, _SIZES, _RECREATE,
#   _DELETE, _RACE, _CREATORS, _CREATE_FLAGS, _CREATE_WORKERS, _DIR, _PACE,
#   _OVERHEAD, _PRESSURE, _LATENCY: the bench's own settings (docs/usage.md#settings)
#   INPUT_DIR, INPUT_DURATION, INPUT_MODE, INPUT_ARGS, INPUT_LABEL, INPUT_COMMAND:
#   the action's
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT: appended to when set
#
# Written for bash 3.2 (macOS's /bin/bash): no associative arrays, and empty
# arrays expanded as ${a[@]+"${a[@]}"}.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# This run's own temporary files, and its copy of the binary it built (see
# unlink_race_binary); removed at exit, however the run ends.
own_tmp=$(mktemp -d)
trap 'rm -rf "$own_tmp"' EXIT

die() {
    echo "error: $*" >&2
    exit 2
}

# The value of variable $1, empty when unset.
setting() {
    printenv "$1" || true
}

if [ -n "$(setting FLEET_TOOLCHAIN)" ]; then
    export RUSTUP_TOOLCHAIN="$FLEET_TOOLCHAIN"
fi

zombiefs() {
    [ "$(setting FLEET_ZOMBIEFS)" = 1 ]
}

# Appends stdin to the job summary (or stdout when there is none).
summary() {
    if [ -n "$(setting GITHUB_STEP_SUMMARY)" ]; then
        cat >>"$GITHUB_STEP_SUMMARY"
    else
        cat
    fi
}

# output NAME VALUE: a step output, when the runner takes them.
output() {
    if [ -n "$(setting GITHUB_OUTPUT)" ]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

# A name safe in a file name and an artifact name.
sanitize() {
    printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'
}

# The OS and its version, e.g. macos14.7.6 or ubuntu24.04.
os_version() {
    case "$(uname -s)" in
    Darwin) printf 'macos%s' "$(sw_vers -productVersion)" ;;
    Linux) (
        # shellcheck disable=SC1091
        . /etc/os-release 2>/dev/null || true
        printf '%s%s' "${ID:-linux}" "${VERSION_ID:-}"
    ) ;;
    MINGW* | MSYS* | CYGWIN*) (
        # Git Bash on Windows: MINGW64_NT-10.0-26100 names the build.
        sys=$(uname -s)
        printf 'windows%s' "${sys#*_NT-}"
    ) ;;
    *) uname -sr ;;
    esac
}

# The report label: runner image, OS version, architecture, so reports of a
# fleet never collide: e.g. macos-14-macos14.7.6-arm64.
fleet_label() {
    local label
    label="$(setting FLEET_RUNNER)"
    label="${label:-local}-$(os_version)-$(uname -m)"
    if zombiefs; then
        label="$label-zombiefs"
    fi
    sanitize "$label"
}

# build JSON_FILE CARGO_ARGS...: runs cargo with JSON messages into JSON_FILE
# (diagnostics still go to the terminal).
build() {
    local json=$1
    shift
    (cd "$root" && cargo "$@" --locked --message-format=json-render-diagnostics) >"$json" ||
        die "cargo $* failed"
}

# executable JSON_FILE TARGET: the path of a target cargo built.
executable() {
    local exe
    exe=$(grep '"reason":"compiler-artifact"' "$1" | grep "\"name\":\"$2\"" |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
    # On Windows the JSON escapes the path's backslashes: Git Bash takes `/`.
    exe=${exe//\\\\//}
    [ -x "$exe" ] || die "cargo built no executable for $2"
    printf '%s' "$exe"
}

# profile_args DEFAULT: cargo's profile flags.
profile_args() {
    local profile
    profile=$(setting FLEET_PROFILE)
    if [ -n "$profile" ]; then
        printf -- '--profile\n%s\n' "$profile"
    elif [ -n "$1" ]; then
        printf -- '%s\n' "$1"
    fi
}

# The unlink-race binary, built with the profile asked for (release by
# default) and the features of FLEET_FEATURES and the arguments, if any.
unlink_race_binary() {
    local json args=() features
    json=$(mktemp "$own_tmp/XXXXXX")
    while IFS= read -r a; do args+=("$a"); done < <(profile_args --release)
    features=$(setting FLEET_FEATURES)
    if [ -n "$features" ]; then args+=(--features "$features"); fi
    build "$json" build --bin unlink-race ${args[@]+"${args[@]}"} "$@"
    local exe copy
    exe=$(executable "$json" unlink-race)
    rm -f "$json"
    # Another build in the same target directory (other features: the
    # emulate mode's, or a test's) replaces that path whenever it links:
    # run a copy of our own, taken while the path is there.
    copy="$own_tmp/$(basename "$exe")"
    rm -f "$copy"
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        if cp "$exe" "$copy" 2>/dev/null; then break; fi
        sleep 0.5
    done
    [ -x "$copy" ] || die "cannot copy the binary cargo built ($exe)"
    printf '%s' "$copy"
}

cmd_toolchain() {
    local toolchain
    toolchain=$(setting FLEET_TOOLCHAIN)
    toolchain=${toolchain:-stable}
    rustup toolchain install "$toolchain" --profile minimal --no-self-update
    RUSTUP_TOOLCHAIN=$toolchain cargo --version
}

# Per-runner job: the bench's grid on this machine.
cmd_bench() {
    local out=${1:?usage: hunt.sh bench OUT_DIR}
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    local label json bench exe
    label=$(fleet_label)
    json=$(mktemp "$own_tmp/XXXXXX")

    local args=()
    while IFS= read -r a; do args+=("$a"); done < <(profile_args "")
    if zombiefs; then
        [ "$(uname -s)" = Linux ] || die "zombiefs needs Linux"
        [ -c /dev/fuse ] || die "zombiefs needs /dev/fuse"
        args+=(--features zombiefs)
    fi
    echo "== building the bench (report label $label)"
    build "$json" bench --bench bench_main --no-run ${args[@]+"${args[@]}"}
    bench=$(executable "$json" bench_main)
    exe=$(executable "$json" unlink-race)
    rm -f "$json"

    local v value quick
    quick=$(setting UNLINK_RACE_QUICK)
    local vars=(
        "UNLINK_RACE_LABEL=$label"
        "UNLINK_RACE_REPORTS=$out"
        "UNLINK_RACE_QUICK=${quick:-1}"
    )
    for v in UNLINK_RACE_READERS UNLINK_RACE_SIZES UNLINK_RACE_RECREATE UNLINK_RACE_DELETE \
        UNLINK_RACE_RACE UNLINK_RACE_CREATORS UNLINK_RACE_CREATE_FLAGS UNLINK_RACE_CREATE_WORKERS \
        UNLINK_RACE_DIR UNLINK_RACE_PACE UNLINK_RACE_OVERHEAD UNLINK_RACE_PRESSURE \
        UNLINK_RACE_LATENCY; do
        value=$(setting "$v")
        if [ -n "$value" ]; then
            vars+=("$v=$value")
        fi
    done
    # No Criterion plots: they stay in target/criterion, which no artifact
    # holds, and take longer than the measurements of a quick grid.
    local criterion=(--bench --noplot)
    value=$(setting FLEET_MEASUREMENT_S)
    if [ -n "$value" ]; then criterion+=(--measurement-time "$value"); fi
    value=$(setting FLEET_WARM_UP_S)
    if [ -n "$value" ]; then criterion+=(--warm-up-time "$value"); fi
    local sudo=()
    if zombiefs; then
        vars+=(UNLINK_RACE_ZOMBIEFS=1)
        # zombiefs mounts with the mount syscall: root, nothing else.
        if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
    fi

    echo "== the grid: ${vars[*]} $bench ${criterion[*]}"
    (cd "$root" && ${sudo[@]+"${sudo[@]}"} env "${vars[@]}" "$bench" "${criterion[@]}") ||
        die "the bench failed"
    if [ ${#sudo[@]} -gt 0 ]; then
        sudo chown -R "$(id -u):$(id -g)" "$out"
    fi
    # The artifact is the report; each runner's one-report index would
    # collide with the others' when the compare job merges them.
    rm -f "$out/index.html"
    [ -s "$out/$label.json" ] || die "the bench wrote no report $out/$label.json"
    [ -s "$out/$label.html" ] || die "the bench wrote no page $out/$label.html"

    {
        echo "### unlink-race on \`$label\`"
        echo
        "$exe" index "$out/$label.json"
    } | summary
    output label "$label"
    output report "$out/$label.json"
    echo "report: $out/$label.json"
}

# The report the others are compared with, among the JSONs in $1.
baseline_of() {
    local dir=$1 wanted f
    wanted=$(setting FLEET_BASELINE)
    if [ -n "$wanted" ]; then
        [ -f "$dir/$wanted.json" ] || die "FLEET_BASELINE=$wanted: no report $wanted.json"
        printf '%s' "$dir/$wanted.json"
        return
    fi
    for f in "$dir"/ubuntu*.json; do
        case "$f" in
        *-zombiefs.json | *'*'*) ;;
        *)
            printf '%s' "$f"
            return
            ;;
        esac
    done
    for f in "$dir"/*.json; do
        printf '%s' "$f"
        return
    done
}

# Compare job: every report side by side.
cmd_compare() {
    local in=${1:?usage: hunt.sh compare IN_DIR OUT_DIR} out=${2:?usage: hunt.sh compare IN_DIR OUT_DIR}
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    local exe list
    exe=$(unlink_race_binary)
    list=$(mktemp "$own_tmp/XXXXXX")
    find "$in" -type f -name '*.json' | LC_ALL=C sort >"$list"
    [ -s "$list" ] || die "no report JSON under $in"
    local f name count=0
    while IFS= read -r f; do
        name=$(basename "$f")
        [ ! -e "$out/$name" ] || die "two reports named $name: labels must differ"
        cp "$f" "$out/$name"
        if [ -f "${f%.json}.html" ]; then cp "${f%.json}.html" "$out/"; fi
        count=$((count + 1))
    done <"$list"
    rm -f "$list"

    local baseline
    baseline=$(baseline_of "$out")
    echo "== $count reports, baseline $(basename "$baseline" .json)"
    "$exe" index "$baseline" "$out" --html "$out/index.html" --markdown "$out/index.md"

    local others=() code=0
    while IFS= read -r f; do
        if [ "$f" != "$baseline" ]; then others+=("$f"); fi
    done < <(find "$out" -maxdepth 1 -type f -name '*.json' | LC_ALL=C sort)
    if [ ${#others[@]} -gt 0 ]; then
        # Exit 1 says that some scenario differs: that is a result, not a failure.
        "$exe" compare "$baseline" "${others[@]}" \
            --markdown "$out/compare.md" --html "$out/compare.html" >"$out/compare.txt" || code=$?
        [ "$code" -le 1 ] || die "unlink-race compare failed (exit $code)"
    fi

    {
        echo "## Fleet hunt: $count report(s)"
        echo
        cat "$out/index.md"
        if [ -f "$out/compare.md" ]; then
            echo
            echo "<details><summary>Every anomaly class, every test (unlink-race compare)</summary>"
            echo
            cat "$out/compare.md"
            echo
            echo "</details>"
        fi
    } | summary
    output index "$out/index.html"
    echo "index: $out/index.html"
}

# The action: hunt in one directory for a while.
cmd_action() {
    local dir duration mode label out exe code=0
    dir=$(setting INPUT_DIR)
    dir=${dir:-.}
    duration=$(setting INPUT_DURATION)
    duration=${duration:-60}
    mode=$(setting INPUT_MODE)
    mode=${mode:-fail}
    case "$mode" in
    fail | warn | report) ;;
    emulate)
        cmd_emulate
        return
        ;;
    *) die "mode must be fail, warn, report or emulate, not '$mode'" ;;
    esac
    [ -d "$dir" ] || die "dir $dir: not a directory"
    out=$(setting RUNNER_TEMP)
    out="${out:-${TMPDIR:-/tmp}}/unlink-race-action"
    rm -rf "$out"
    mkdir -p "$out"
    exe=$(unlink_race_binary)

    local args=(run --dir "$dir" --duration "$duration" --no-progress
        --json "$out/report.json" --html "$out/report.html")
    label=$(setting INPUT_LABEL)
    if [ -n "$label" ]; then args+=(--label "$label"); fi
    local extra
    # Extra flags of `unlink-race run`, separated by spaces (no quoting).
    read -r -a extra <<<"$(setting INPUT_ARGS)" || true
    echo "== unlink-race ${args[*]} $(setting INPUT_ARGS)"
    "$exe" "${args[@]}" ${extra[@]+"${extra[@]}"} || code=$?
    case "$code" in
    0 | 1 | 130) ;;
    *) die "unlink-race run failed (exit $code): no report" ;;
    esac
    [ -s "$out/report.json" ] || die "unlink-race run wrote no report"

    label=$(sed -n 's/^  "label": "\(.*\)",$/\1/p' "$out/report.json" | head -n 1)
    label=$(sanitize "${label:-report}")
    mv "$out/report.json" "$out/$label.json"
    mv "$out/report.html" "$out/$label.html"

    local verdict
    case "$code" in
    0) verdict=clean ;;
    1) verdict=anomaly ;;
    *) verdict=interrupted ;;
    esac
    {
        case "$verdict" in
        clean) echo "### unlink-race: no anomaly in \`$dir\` ($duration)" ;;
        anomaly) echo "### unlink-race: the open/unlink race showed an anomaly in \`$dir\`" ;;
        *) echo "### unlink-race: interrupted in \`$dir\`" ;;
        esac
        echo
        "$exe" index "$out/$label.json"
    } | summary
    output report "$out/$label.json"
    output report-dir "$out"
    output label "$label"
    output verdict "$verdict"
    output exit-code "$code"
    output artifact "unlink-race-$label"
    echo "verdict: $verdict (report $out/$label.json)"
}

# The action in mode emulate: INPUT_COMMAND (run by bash) with its temp dir
# on zombiefs; its exit status is judged by the verdict step.
cmd_emulate() {
    local command out exe code=0 verdict
    command=$(setting INPUT_COMMAND)
    [ -n "$command" ] || die "mode emulate needs the input command"
    if ! command -v fusermount3 >/dev/null && [ "$(id -u)" != 0 ]; then
        echo "== sudo apt-get install fuse3 (fusermount3 mounts FUSE for a normal user)"
        { sudo apt-get update -qq && sudo apt-get install -y -qq fuse3; } >/dev/null ||
            die "cannot install fuse3: unlink-race emulate needs fusermount3 or root"
    fi
    out=$(setting RUNNER_TEMP)
    out="${out:-${TMPDIR:-/tmp}}/unlink-race-emulate"
    rm -rf "$out"
    mkdir -p "$out"
    exe=$(unlink_race_binary --features zombiefs)
    local extra
    # Extra flags of `unlink-race emulate`, separated by spaces (no quoting).
    read -r -a extra <<<"$(setting INPUT_ARGS)" || true
    echo "== unlink-race emulate $(setting INPUT_ARGS) -- bash -c '$command'"
    "$exe" emulate --json "$out/served.json" ${extra[@]+"${extra[@]}"} -- bash -c "$command" ||
        code=$?
    [ -s "$out/served.json" ] || die "unlink-race emulate failed (exit $code): nothing was run"
    verdict=$(sed -n 's/^  "verdict": "\(.*\)",$/\1/p' "$out/served.json" | head -n 1)
    {
        echo "### unlink-race emulate"
        echo
        echo "$verdict"
        echo
        echo "Counts per symptom and per file: \`served.json\` in the artifact \`unlink-race-emulate\`."
    } | summary
    output report "$out/served.json"
    output report-dir "$out"
    output label emulate
    if [ "$code" = 0 ]; then output verdict passed; else output verdict failed; fi
    output exit-code "$code"
    output artifact unlink-race-emulate
    echo "exit status of the command under emulate: $code"
}

# The action's last step, after the upload: pass, warn or fail.
cmd_verdict() {
    local code mode
    code=$(setting FLEET_EXIT_CODE)
    mode=$(setting INPUT_MODE)
    mode=${mode:-fail}
    if [ "$mode" = emulate ]; then
        if [ "$code" = 0 ]; then
            echo "unlink-race emulate: the command passed"
            return
        fi
        echo "::error title=unlink-race emulate::the command failed under the emulated defect (exit ${code:-none}; see the job summary)"
        exit "${code:-1}"
    fi
    case "$code" in
    0)
        echo "unlink-race: no anomaly (a bound, not a proof: see the report's 95% upper bound)"
        ;;
    1)
        case "$mode" in
        fail)
            echo "::error title=unlink-race::the open/unlink race showed an anomaly (see the job summary and the report artifact)"
            exit 1
            ;;
        warn) echo "::warning title=unlink-race::the open/unlink race showed an anomaly (see the job summary and the report artifact)" ;;
        *) echo "unlink-race: an anomaly was seen (mode report: not failing)" ;;
        esac
        ;;
    *)
        echo "::error title=unlink-race::the hunt did not finish (exit ${code:-none})"
        exit 1
        ;;
    esac
}

case "${1:-}" in
toolchain) cmd_toolchain ;;
bench) cmd_bench "${2:-}" ;;
compare) cmd_compare "${2:-}" "${3:-}" ;;
action) cmd_action ;;
verdict) cmd_verdict ;;
*) die "usage: hunt.sh toolchain | bench OUT_DIR | compare IN_DIR OUT_DIR | action | verdict" ;;
esac
