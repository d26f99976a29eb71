# Debian packages needed to build safeexec, run its tests and its demo.
# Sourced by scripts/test and scripts/demo.
SAFEEXEC_PACKAGES="build-essential g++ meson ninja-build pkg-config binutils \
libjemalloc-dev libsensors-dev check libinih-dev libhwloc-dev \
python3 python3-numpy python3-matplotlib libopenblas0-pthread libblas-dev \
clang libclang-rt-14-dev"

# Installs whatever in SAFEEXEC_PACKAGES is not installed yet (needs root).
install_missing_packages() {
	missing=""
	for package in $SAFEEXEC_PACKAGES; do
		if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null \
			| grep -q "install ok installed"; then
			missing="$missing $package"
		fi
	done
	if [ -z "$missing" ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages:$missing; install them as root" >&2
		return 1
	fi
	echo "installing:$missing"
	apt-get update -q >/dev/null || return 1
	# shellcheck disable=SC2086 # the list is split on purpose
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$missing >/dev/null || return 1
}
