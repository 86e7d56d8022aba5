#!/usr/bin/env bash
# Runs the user programs on the Linux host, without a kernel, through
# hostrun.py (which translates Diptych system calls into Linux ones):
#
#   1. usertests - all of it when a small tmpfs can be mounted (so diskfull and
#      outofinodes can fill it), otherwise `usertests -q`;
#   2. a shell transcript: pipelines, redirection, file commands, errors,
#      compared line by line with the expected output.
#
# Needs root (chroot, mount) and ptrace. Exit status 0 if everything passed.
#   usage: user/tools/check-on-host.sh
set -euo pipefail
cd "$(dirname "$0")/.."                      # user/
cargo build --release --quiet
bin=../target/user-mono/x86_64-unknown-none/release
programs=(init sh cat echo grep wc ls mkdir rm ln mv kill sleep true usertests bench)

root=$(mktemp -d)
mounted=false
cleanup() {
    if $mounted; then umount "$root" || true; fi
    rm -rf "$root"
}
trap cleanup EXIT
if mount -t tmpfs -o size=24m,nr_inodes=4000 tmpfs "$root" 2>/dev/null; then
    mounted=true
fi
mkdir -p "$root/bin"
for program in "${programs[@]}"; do
    objcopy --strip-debug "$bin/$program" "$root/bin/$program"
done
run() { python3 tools/hostrun.py "$root" "$@"; }

status=0

# 1. usertests
if $mounted; then command=(/bin/usertests); else command=(/bin/usertests -q); fi
output=$(run "${command[@]}" 2>&1) || true
if grep -q "ALL TESTS PASSED" <<<"$output"; then
    echo "check-on-host: ${command[*]}: $(tail -1 <<<"$output")"
else
    echo "check-on-host: ${command[*]} FAILED:"
    grep -v ": OK" <<<"$output" | sed 's/^/  | /'
    status=1
fi

# 2. the shell, reading a script from standard input (so it prints no prompts)
script='echo hello | cat
echo one two three | wc
echo abc > t1; cat < t1
echo def >> t1; wc < t1
grep ^d t1
echo a | cat | cat | cat | cat | cat | wc
mkdir d1; cd d1; echo hi > f; ln f g; mv g h; cat h; cd ..
rm d1/f; rm d1/h; rm d1; rm t1
ls d1
no-such-program
cat /no/such/file
cat <
echo x |
echo "quoted | word"   # a comment
exit 3
echo not reached'
expected='hello
1 3 14
abc
2 2 8
def
1 1 2
hi
ls: d1: no such file or directory
sh: no-such-program: command not found
cat: /no/such/file: no such file or directory
sh: syntax error: missing file name after '"'"'<'"'"'
sh: syntax error: unexpected end of line
quoted | word'
shell_status=0
actual=$(run /bin/sh <<<"$script" 2>&1) || shell_status=$?
if [ "$actual" == "$expected" ] && [ "$shell_status" -eq 3 ]; then
    echo "check-on-host: shell transcript: OK"
else
    echo "check-on-host: shell transcript FAILED (exit status $shell_status, expected 3):"
    diff <(echo "$expected") <(echo "$actual") | sed 's/^/  | /' || true
    status=1
fi
exit $status
