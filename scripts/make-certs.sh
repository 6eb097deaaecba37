#!/usr/bin/env bash
# Makes a test CA and one certificate + key per Umbra role, for mpc-run's
# mutual TLS (--tls-dir DIR, or --tls-cert/--tls-key/--tls-ca):
#
#   DIR/ca.pem                 the CA every role trusts (ca.key signs)
#   DIR/{dealer,p0,p1,client}.pem / .key
#                              one per role; the role is bound by the
#                              subjectAltName URI umbra-role:<role>
# and, for the tests, certificates that must be refused:
#   DIR/other-ca.pem           a different CA
#   DIR/other-p1.pem / .key    role p1, signed by the other CA
#   DIR/norole.pem / .key      signed by the CA, bound to no role
#
# Keys are EC P-256, mode 0600. For a deployment across hosts run it once
# on a trusted machine, copy ca.pem to every host and each role's .pem and
# .key only to the host that runs that role (keep ca.key offline).
#
#   scripts/make-certs.sh DIR [--days N]
set -euo pipefail
dir="${1:?usage: make-certs.sh DIR [--days N]}"
days=30
[ "${2:-}" = "--days" ] && days="${3:?--days needs a number}"
command -v openssl >/dev/null || { echo "make-certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

# ca NAME CN: a self-signed CA
ca() {
  key "$dir/$1.key"
  openssl req -x509 -new -key "$dir/$1.key" -sha256 -days "$days" \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/$1.pem"
}

# leaf NAME CA ROLE: a certificate signed by CA, bound to ROLE ("" = none)
leaf() {
  local name=$1 signer=$2 role=$3 ext
  key "$dir/$name.key"
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -n "$role" ] && echo "subjectAltName=URI:umbra-role:$role"
  } > "$ext"
  openssl req -new -key "$dir/$name.key" -subj "/CN=umbra-${role:-$name}" \
    -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$signer.pem" \
    -CAkey "$dir/$signer.key" -CAcreateserial -sha256 -days "$days" \
    -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$ext" "$dir/$name.csr"
}

ca ca "Umbra test CA"
for role in dealer p0 p1 client; do
  leaf "$role" ca "$role"
done
ca other-ca "Another CA"
leaf other-p1 other-ca p1
leaf norole ca ""
chmod 644 "$dir"/*.pem
rm -f "$dir"/*.srl
echo "make-certs.sh: CA and role certificates in $dir (ca.key signs; keep it offline)"
