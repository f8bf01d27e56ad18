# SPDX-License-Identifier: GPL-2.0-only
# Sourced by tests that need TLS: a throwaway PKI made with openssl.

# make_test_pki DIR: two CAs (ca, other-ca); from ca a server certificate
# for 127.0.0.1 and an agent client certificate; from other-ca a stranger.
# P-256 keys, valid two days; files DIR/NAME.crt and DIR/NAME.key.
make_test_pki() {
	local dir=$1 ca
	mkdir -p "$dir"
	for ca in ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout "$dir/$ca.key" -out "$dir/$ca.crt" \
			-subj "/CN=$ca" -days 2 2> /dev/null || return 1
	done
	pki_cert "$dir" server ca "IP:127.0.0.1" &&
		pki_cert "$dir" agent ca &&
		pki_cert "$dir" stranger other-ca
}

# pki_cert DIR NAME CA [SAN]: a key and a certificate signed by CA.
pki_cert() {
	local dir=$1 name=$2 ca=$3 san=${4:-}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" \
		2> /dev/null || return 1
	printf 'basicConstraints=CA:FALSE\n%s' "${san:+subjectAltName=$san}" \
		> "$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" \
		-CAkey "$dir/$ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/$name.ext" -out "$dir/$name.crt" 2> /dev/null
}
