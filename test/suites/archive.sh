#!/usr/bin/env bash
# test/suites/archive.sh: the test S3 server of the archive tests.
#
# Installs the packages of test/archive/package-lock.json (s3rver,
# @smithy/signature-v4, @aws-crypto/sha256-js) and of test/parquet (DuckDB)
# when node_modules is missing: test/t/041_archive.pl needs both.  Then
# checks that test/archive/s3-proxy.mjs tells good requests from bad ones,
# with requests signed by curl --aws-sigv4 (another SigV4 signer than
# obs's): a correct PUT is stored, a wrong secret, a body that is not the
# one signed and a wrong Content-MD5 are refused; then that it lists and
# aborts multipart uploads in progress (s3rver does neither).  Prints
# "ok"/"not ok" lines and, last, "N passed, N failed"; exits non-zero when
# anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got $1, expected $2)"; fi; }
finish() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
    [ -n "${dir:-}" ] && rm -rf "$dir"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

for d in test/archive test/parquet; do
    [ -d "$d/node_modules" ] && continue
    log=$(mktemp)
    if (cd "$d" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
        ok "npm ci in $d"
    else
        cat "$log"
        not_ok "npm ci in $d"
        rm -f "$log"
        finish
    fi
    rm -f "$log"
done

dir=$(mktemp -d /tmp/obs-s3proxy.XXXXXX)
S3_SECRET=suite-secret-1234 S3_DIR="$dir/s3" node test/archive/s3-proxy.mjs >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do
    port=$(head -n 1 "$dir/out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    cat "$dir/err"
    not_ok "s3-proxy.mjs starts"
    finish
fi
ok "s3-proxy.mjs starts on 127.0.0.1"
url="http://127.0.0.1:$port/lake/suite/signal%3Dlogs/x.parquet"
printf 'PAR1 hello PAR1' >"$dir/body"
sha=$(sha256sum "$dir/body" | cut -d' ' -f1)
md5=$(openssl dgst -md5 -binary "$dir/body" | base64)
put() {
    # $1 secret, $2 x-amz-content-sha256, $3 Content-MD5
    curl -s -o /dev/null -w '%{http_code}' -m 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user "S3RVER:$1" \
        -X PUT --data-binary @"$dir/body" -H "x-amz-content-sha256: $2" -H "Content-MD5: $3" "$url"
}
check "$(put suite-secret-1234 "$sha" "$md5")" 200 "a correctly signed PUT is accepted"
check "$(cmp -s "$dir/body" "$dir/s3/lake/suite/signal=logs/x.parquet._S3rver_object" && echo same)" same \
    "and s3rver stores its body under the decoded key"
check "$(put wrong-secret-9876 "$sha" "$md5")" 403 "a PUT signed with another secret is refused"
check "$(put suite-secret-1234 "$(printf '%064d' 0)" "$md5")" 403 "a PUT whose signed payload hash is not its body's is refused"
check "$(put suite-secret-1234 "$sha" "AAAAAAAAAAAAAAAAAAAAAA==")" 400 "a PUT with a wrong Content-MD5 is refused"
check "$(curl -s -m 5 "http://127.0.0.1:$port/_stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.verified+" "+j.rejected)})')" "1 3" \
    "the proxy counts 1 verified and 3 refused requests"
# ListMultipartUploads and AbortMultipartUpload, which the proxy answers
# itself (s3rver has neither), from s3rver's uploads in progress
empty=$(printf '' | sha256sum | cut -d' ' -f1)
signed() {
    # $1 method, $2 URL; prints the body, then the status on its own line
    curl -s -w '\n%{http_code}' -m 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user "S3RVER:suite-secret-1234" \
        -X "$1" -H "x-amz-content-sha256: $empty" "$2"
}
id=$(signed POST "http://127.0.0.1:$port/lake/suite/signal%3Dlogs/big.parquet?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
check "$([ -n "$id" ] && echo started)" started "a multipart upload is started"
listed=$(signed GET "http://127.0.0.1:$port/lake?prefix=suite%2Fsignal%3Dlogs%2F&uploads=")
check "$(printf '%s' "$listed" | grep -c "<Key>suite/signal=logs/big.parquet</Key><UploadId>$id</UploadId>")" 1 \
    "ListMultipartUploads lists it under its prefix"
check "$(signed GET "http://127.0.0.1:$port/lake?prefix=other%2F&uploads=" | grep -c '<Upload>')" 0 \
    "and not under another prefix"
check "$(signed DELETE "http://127.0.0.1:$port/lake/suite/signal%3Dlogs/big.parquet?uploadId=$id" | tail -n 1)" 204 \
    "AbortMultipartUpload aborts it"
check "$(signed GET "http://127.0.0.1:$port/lake?prefix=suite%2F&uploads=" | grep -c '<Upload>')" 0 \
    "then it is listed no more"
check "$(signed DELETE "http://127.0.0.1:$port/lake/suite/signal%3Dlogs/big.parquet?uploadId=$id" | tail -n 1)" 404 \
    "a second abort is NoSuchUpload"
finish
