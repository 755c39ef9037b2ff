#!/usr/bin/env bash
# Build the gocrash test bed: a real kernel, real kdump captures, and the
# crash utility's answers for each dump.
#
#   testdata/mkdump/mkdump.sh VERSION [SCENARIO...]
#
# VERSION is a Debian linux-source version (6.1, 6.12), built here. SCENARIOs
# default to all of: sysrq oops cpu1 qemu softlockup hung oom.
#
# VERSION may instead name a prebuilt Debian kernel, debian-KVER (e.g.
# debian-6.1.0-56-cloud-amd64): its linux-image-KVER-unsigned and
# linux-image-KVER-dbg packages are downloaded and unpacked into
# $WORK/debian-KVER (never installed), nothing is built, the guest boots the
# package's vmlinuz and loads the virtio modules it needs from the package
# (Debian's cloud kernels build virtio as modules and have no 9p: the dump goes
# to an ext4 disk image that debugfs reads back). SCENARIOs then default to
# sysrq; the results go to $WORK/distro/VERSION-SCENARIO/ (pack.sh never packs
# them: the -dbg vmlinux alone is ~600 MB) with vmlinux a symbolic link, and
# crash's answers are recorded only with RECORD=1. RECORD_ONLY=1 re-records crash's answers on
# dumps made before, without booting anything. Work files live in $WORK (default
# /var/cache/gocrash-mkdump), outside the tree; the results are written to
# $WORK/out/VERSION-SCENARIO/ and then packed into testdata/dumps/ by pack.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
VERSION=${1:?usage: mkdump.sh VERSION [SCENARIO...]}
shift
SCENARIOS=${*:-sysrq oops cpu1 qemu softlockup hung oom}
WORK=${WORK:-/var/cache/gocrash-mkdump}
KSRC=$WORK/linux-source-$VERSION
OUT=$WORK/out
BZIMAGE=$KSRC/arch/x86/boot/bzImage
VMLINUX=$KSRC/vmlinux.gocrash   # make's vmlinux, post-processed by build_kernel
DEBKVER=
case $VERSION in
debian-*)
	DEBKVER=${VERSION#debian-}
	DEB=$WORK/$VERSION/root
	BZIMAGE=$DEB/boot/vmlinuz-$DEBKVER
	VMLINUX=$DEB/usr/lib/debug/boot/vmlinux-$DEBKVER
	OUT=$WORK/distro
	SCENARIOS=${*:-sysrq}
	;;
esac
TX=$WORK/trixie          # crash 8.0.6 and makedumpfile 1.7.6, unpacked privately
JOBS=${JOBS:-$(nproc)}
MEM=${MEM:-384}
mkdir -p "$WORK" "$OUT"

log() { printf '== %s\n' "$*" >&2; }

# The host packages mkdump.sh needs (bookworm's; chrt is util-linux's).
HOST_PKGS="qemu-system-x86 kexec-tools makedumpfile busybox-static crash build-essential flex bison bc
libelf-dev libssl-dev dwarves dwz zstd cpio util-linux kmod"

# debian_mirror: the Debian mirror this machine's own apt sources name (deb822
# debian.sources, else sources.list): no package host is written here.
debian_mirror() {
	local u=
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		u=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$u" ] && [ -f /etc/apt/sources.list ]; then
		u=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$u" ] || { log "no Debian mirror in this machine's apt sources"; exit 1; }
	echo "$u"
}

# apt_get ARGS: apt-get waiting up to 10 min for dpkg's lock another apt user
# (unattended-upgrades, a second mkdump.sh) holds. DPkg::Lock::Timeout (apt
# >= 1.9.11; bookworm has 2.6) covers the dpkg frontend lock of install and
# download only, not the lists lock of `apt-get update`: apt_locked serialises
# this script's own apt work, and apt_update retries a lock held by others.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }

apt_update() {
	local i err
	for i in $(seq 1 60); do
		if err=$(apt-get -qq update 2>&1); then
			[ -z "$err" ] || printf '%s\n' "$err" >&2
			return 0
		fi
		case $err in
		*"Could not get lock"*) [ "$i" = 1 ] && log "apt's lists lock is held: waiting" ; sleep 10 ;;
		*) printf '%s\n' "$err" >&2; return 1 ;;
		esac
	done
	printf '%s\n' "$err" >&2
	return 1
}

# apt_locked CMD...: CMD with the host-wide lock every mkdump.sh takes for its
# apt work, so that two runs started together (mkdump.sh 6.1 & mkdump.sh 6.12)
# do not both run apt-get update (the second failed on apt's lists lock) nor
# unpack crash into the same $TX at once; the second waits, then finds the
# packages present.
APT_LOCK=${APT_LOCK:-/run/lock/gocrash-mkdump-apt.lock}
apt_locked() {
	local fd
	exec {fd}>>"$APT_LOCK"
	if ! flock -n "$fd"; then
		log "another mkdump.sh is installing packages: waiting for it"
		flock -w 3600 "$fd" || { log "waited an hour for $APT_LOCK"; exit 1; }
	fi
	"$@"
	local rc=$?
	exec {fd}>&-
	return $rc
}

install_deps() { apt_locked install_deps_locked; }

install_deps_locked() {
	export DEBIAN_FRONTEND=noninteractive
	local missing=0 p
	# shellcheck disable=SC2086
	for p in $HOST_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing=1; done
	[ -n "$DEBKVER" ] || [ -f "/usr/src/linux-source-$VERSION.tar.xz" ] || missing=1
	[ -x "$TX/usr/bin/crash" ] || missing=1
	if [ $missing = 0 ]; then
		log "host packages present"
		return
	fi
	log "installing host packages"
	local src=/etc/apt/sources.list.d/gocrash-extra.sources
	if [ ! -f "$src" ]; then
		# trixie for crash 8.0.6 / makedumpfile 1.7.6 (unpacked privately, never
		# installed), bookworm-backports for newer kernel sources.
		cat > "$src" <<SRC
Types: deb
URIs: $(debian_mirror)
Suites: bookworm-backports trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/gocrash-extra
	fi
	apt_update
	# shellcheck disable=SC2086
	apt_get install -y -qq -t bookworm $HOST_PKGS >/dev/null
	if [ -z "$DEBKVER" ] && [ ! -f "/usr/src/linux-source-$VERSION.tar.xz" ]; then
		apt_get install -y -qq "linux-source-$VERSION" >/dev/null ||
			apt_get install -y -qq -t bookworm-backports "linux-source-$VERSION" >/dev/null
	fi
	if [ ! -x "$TX/usr/bin/crash" ]; then
		local dl; dl=$(mktemp -d)
		(cd "$dl" && apt_get download -qq crash/trixie makedumpfile/trixie libc6/trixie libgcc-s1/trixie \
			liblzo2-2/trixie libncursesw6/trixie libsnappy1v5/trixie libstdc++6/trixie libtinfo6/trixie \
			libzstd1/trixie libdw1t64/trixie libelf1t64/trixie zlib1g/trixie libbz2-1.0/trixie liblzma5/trixie)
		mkdir -p "$TX"
		for d in "$dl"/*.deb; do dpkg -x "$d" "$TX"; done
		rm -rf "$dl"
	fi
}

# debian_suite KVER: the Debian suite whose archive carries the prebuilt
# kernel KVER (its ABI name says: 5.10.0-N is bullseye's, 6.1.0-N bookworm's,
# 6.12.N+debN bookworm-backports' or trixie's).
debian_suite() {
	case $1 in
	5.10.*) echo bullseye ;;
	6.1.*) echo bookworm ;;
	*+deb12-*) echo bookworm-backports ;;
	*+deb13-*) echo trixie ;;
	*) echo "" ;;
	esac
}

# debian_add_suite SUITE: the suite (and, for bullseye, whose last kernels came
# as security updates, its -security suite) added to apt's sources with a low
# pin, as install_deps adds trixie: its packages are only ever downloaded.
debian_add_suite() {
	local suite=$1 src=/etc/apt/sources.list.d/gocrash-$1.sources m sec=
	[ -f "$src" ] && return
	m=$(debian_mirror)
	# The security archive as this machine's sources name it, else beside the mirror.
	[ -f /etc/apt/sources.list.d/debian.sources ] &&
		sec=$(awk '/^URIs:/ && /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	[ -n "$sec" ] || sec=${m%/debian}/debian-security
	log "adding $suite to apt's sources (pinned low)"
	cat > "$src" <<SRC
Types: deb
URIs: $m
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $sec
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	local n
	for n in "$suite" "$suite-updates" "$suite-security"; do
		printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n\n' "$n"
	done > "/etc/apt/preferences.d/gocrash-$suite"
	apt_update
}

# fetch_debian_kernel: the prebuilt image and its debug vmlinux, unpacked (not
# installed) into $WORK/VERSION/root.
fetch_debian_kernel() {
	local d=$WORK/$VERSION
	if [ -f "$VMLINUX" ] && [ -f "$BZIMAGE" ]; then
		log "Debian kernel $DEBKVER already unpacked"
		return
	fi
	if ! apt-cache show "linux-image-$DEBKVER-dbg" >/dev/null 2>&1; then
		local suite; suite=$(debian_suite "$DEBKVER")
		[ -n "$suite" ] || { log "no apt source knows linux-image-$DEBKVER-dbg"; exit 1; }
		apt_locked debian_add_suite "$suite"
	fi
	log "downloading linux-image-$DEBKVER-unsigned and -dbg"
	mkdir -p "$d/debs" "$d/root"
	(cd "$d/debs" && apt_get download -qq "linux-image-$DEBKVER-unsigned" "linux-image-$DEBKVER-dbg")
	for p in "$d"/debs/*.deb; do dpkg -x "$p" "$d/root"; done
	[ -f "$VMLINUX" ] && [ -f "$BZIMAGE" ] || { log "no $VMLINUX or $BZIMAGE in the packages"; exit 1; }
}

# The modules the Debian kernel needs for the guest's disks (virtio_pci,
# virtio_blk), with what they depend on, in load order: the package has no
# modules.dep (depmod makes it on installation), so each module's own
# "depends" (modinfo) is followed, since the set changes between kernels
# (virtio_pci_modern_dev exists from 5.14, virtio_pci_legacy_dev from 5.16)
# and trixie compresses them with xz under /usr/lib/modules. A module the
# kernel has built in (modules.builtin) needs nothing. ext2 is served by the
# built-in ext4 (CONFIG_EXT4_USE_FOR_EXT2).
DEB_WANT="virtio_pci virtio_blk"
deb_moddir() {
	if [ -d "$DEB/lib/modules/$DEBKVER/kernel" ]; then echo "$DEB/lib/modules/$DEBKVER"; else echo "$DEB/usr/lib/modules/$DEBKVER"; fi
}
# deb_modules prints the module files (relative to deb_moddir) in load order.
deb_modules() {
	local dir seen=" " out=() n
	dir=$(deb_moddir)
	# modinfo (kmod: not on a fresh machine) follows each module's depends;
	# without it the guest got virtio_pci without virtio_ring and no disk.
	command -v modinfo >/dev/null || { log "deb_modules: no modinfo (Debian's kmod)"; exit 1; }
	# mod_path NAME: the file of module NAME (- and _ are one in module names).
	mod_path() {
		(cd "$dir" && find kernel -name '*.ko*' | awk -v n="$1" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko(\.(xz|zst|gz))?$/, "", b); gsub(/-/, "_", b) } b == n { print; exit }')
	}
	add_mod() {
		local n=${1//-/_} path d
		case $seen in *" $n "*) return 0 ;; esac
		seen+="$n "
		path=$(mod_path "$n")
		if [ -z "$path" ]; then
			grep -qE "/${1}\.ko\$" "$dir/modules.builtin" || { log "$1: neither a module nor built in"; return 1; }
			return 0
		fi
		for d in $(modinfo -F depends "$dir/$path" | tr , ' '); do add_mod "$d" || return 1; done
		out+=("$path")
	}
	for n in $DEB_WANT; do add_mod "$n" || exit 1; done
	echo "${out[@]}"
}

# crash 8.0.6, run through its own loader so trixie's libc never touches the
# host; crashrec.sh records its answers (record.sh uses the same code).
. "$here/crashrec.sh"
crash_setup "$TX"

build_kernel() {
	# The marker is written last, after every step below succeeded, and
	# names the kernel.config it was built from: a failed or interrupted
	# build, or a changed kernel.config, is simply run again (make redoes
	# only what changed; the post-processing reads make's vmlinux, never
	# its own output, so a rerun never meets a half-processed file).
	local want; want=$(grep -v '^#' "$here/kernel.config" | sha256sum | cut -d' ' -f1)
	if [ -f "$VMLINUX" ] && [ "$(cat "$KSRC/.gocrash-built" 2>/dev/null)" = "$want" ]; then
		log "kernel $VERSION already built"
		return
	fi
	log "building kernel $VERSION ($JOBS jobs)"
	[ -d "$KSRC" ] || tar -C "$WORK" -xf "/usr/src/linux-source-$VERSION.tar.xz"
	(
		cd "$KSRC"
		rm -f .gocrash-built
		# Configured again only when kernel.config changed: a rewritten
		# .config would make kbuild look at every file again.
		if [ "$(cat .gocrash-config 2>/dev/null)" != "$want" ]; then
			make -s tinyconfig
			scripts/kconfig/merge_config.sh -m .config "$here/kernel.config" >/dev/null 2>&1
			make -s olddefconfig
			echo "$want" > .gocrash-config
		fi
		# Options a newer kernel renamed or that tinyconfig cannot reach are
		# reported, not fatal: the check below lists what did not stick.
		for o in $(grep -oE '^CONFIG_[A-Z0-9_]+=y' "$here/kernel.config" | cut -d= -f1); do
			grep -q "^$o=y" .config || echo "note: $o is not set in $VERSION" >&2
		done
		make -j"$JOBS" bzImage >/dev/null
		make -j"$JOBS" modules >/dev/null
		# vmlinux is linked with --emit-relocs (for KASLR's relocation table),
		# which keeps ~100 MB of .rela.* that no debugger applies to an ET_EXEC
		# file: drop them. dwz then moves the type DIEs every compile unit
		# repeats into shared partial units (as Fedora's and RHEL's debuginfo
		# are made): 60 MB of .debug_info becomes ~26 MB, and gocrash meets
		# the DW_TAG_partial_unit / DW_FORM_ref_addr forms real debuginfo has.
		# .debug_loclists (where each local variable lives at each pc) is
		# read neither by gocrash nor by any crash command the test bed
		# records (their answers are the same without it): dropped, but only
		# after dwz, which refuses a file whose DIEs point into a section
		# that is gone. make's own vmlinux is left as it is (modules' BTF is
		# made against it).
		rm -f vmlinux.gocrash.tmp
		objcopy --remove-relocations='*' vmlinux vmlinux.gocrash.tmp
		dwz -L none vmlinux.gocrash.tmp
		objcopy --remove-section=.debug_loclists vmlinux.gocrash.tmp
		mv -f vmlinux.gocrash.tmp "$VMLINUX"
		echo "$want" > .gocrash-built
	)
}

# copy_bin BIN DEST: a dynamic host binary with the libraries it needs.
copy_bin() {
	local bin=$1 root=$2
	install -D "$bin" "$root$bin"
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+\.so[^ ]*'); do
		install -D "$lib" "$root$lib"
	done
}

build_module() {
	local m=$WORK/oopsmod-$VERSION
	rm -rf "$m" && cp -r "$here/oopsmod" "$m"
	make -s -C "$KSRC" M="$m" modules >/dev/null
}

build_initramfs() {
	local ir=$WORK/initramfs-$VERSION
	log "building initramfs"
	rm -rf "$ir" && mkdir -p "$ir"/{bin,sbin,proc,sys,dev,tmp,mnt,out,boot,lib/modules,opt/tx}
	cp /bin/busybox "$ir/bin/busybox"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$ir/bin/$a"; done
	ln -sf ../bin/busybox "$ir/sbin/init"
	cp "$here/init" "$ir/init"
	copy_bin /sbin/kexec "$ir"
	# busybox has no chrt: util-linux's, for the workload's real-time task.
	copy_bin /usr/bin/chrt "$ir"
	# makedumpfile 1.7.6 (zstd support) with trixie's libraries and loader.
	cp "$TX/usr/bin/makedumpfile" "$ir/opt/tx/"
	cp -L "$TX"/usr/lib/x86_64-linux-gnu/{ld-linux-x86-64.so.2,libc.so.6,libdw.so.1,libelf.so.1,liblzo2.so.2,libzstd.so.1,libz.so.1,libbz2.so.1.0,liblzma.so.5,libm.so.6} "$ir/opt/tx/" 2>/dev/null || true
	for l in libz.so.1 libzstd.so.1; do
		[ -f "$ir/opt/tx/$l" ] || cp -L "$TX"/usr/lib/x86_64-linux-gnu/$l* "$ir/opt/tx/" 2>/dev/null || cp -L /lib/x86_64-linux-gnu/$l "$ir/opt/tx/"
	done
	gcc -O2 -static -o "$ir/bin/synflood" "$here/synflood.c"
	gcc -O2 -static -pthread -o "$ir/bin/threads" "$here/threads.c"
	gcc -O2 -static -o "$ir/bin/bpfload" "$here/bpfload.c"
	if [ -n "$DEBKVER" ]; then
		# init insmods the files listed in /lib/modules/preload, in order.
		local m b mods md
		mods=$(deb_modules)
		md=$(deb_moddir)
		for m in $mods; do
			b=${m##*/}
			case $m in
			*.xz) b=${b%.xz}; xz -dc "$md/$m" > "$ir/lib/modules/$b" ;;
			*.zst) b=${b%.zst}; zstd -qdc "$md/$m" > "$ir/lib/modules/$b" ;;
			*.gz) b=${b%.gz}; gzip -dc "$md/$m" > "$ir/lib/modules/$b" ;;
			*) cp "$md/$m" "$ir/lib/modules/" ;;
			esac
			echo "/lib/modules/$b" >> "$ir/lib/modules/preload"
		done
	else
		cp "$WORK/oopsmod-$VERSION/gocrash_oops.ko" "$ir/lib/modules/"
	fi
	# The capture kernel's initramfs is this one without /boot.
	(cd "$ir" && find . -path ./boot -prune -o -print | cpio -o -H newc 2>/dev/null | gzip -1) > "$WORK/capture-$VERSION.cpio.gz"
	cp "$WORK/capture-$VERSION.cpio.gz" "$ir/boot/capture.cpio.gz"
	cp "$BZIMAGE" "$ir/boot/bzImage"
	(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$WORK/initramfs-$VERSION.cpio.gz"
}

# One boot: the guest runs the workload and panics; the capture kernel saves
# the dump (or QEMU does, for the qemu scenario) into $OUT/VERSION-SCENARIO.
# scenario_dir SCENARIO: where a scenario's results go. The scale scenarios
# (for bench/; pack.sh never packs them, crash's answers are recorded only
# with RECORD=1) go to $WORK/scale/VERSION-SCENARIO[-TAG]: "many" (thousands
# of sleeping tasks: APPEND=gocrash.many=N), "mem" (the workload without
# the memory hog, for a guest of MEM MB; TAG defaults to MEM, e.g.
# 6.1-mem-16384M) and "biglog" (log_buf_len=4M, filled past wrapping:
# gocrash.logfill=KIB). TAG tells two runs of one scenario apart (e.g.
# TAG=20000 for 20,000 tasks).
is_scale() { case $1 in many | mem | biglog) return 0 ;; esac; return 1; }
scenario_dir() {
	local tag=${TAG:-}
	[ "$1" != mem ] || tag=${tag:-${MEM}M}
	if is_scale "$1"; then echo "$WORK/scale/$VERSION-$1${tag:+-$tag}"; else echo "$OUT/$VERSION-$1"; fi
}

# kvm_boots: whether a KVM guest gets as far as the kernel's first line
# here (asked once). A writable /dev/kvm is not enough: under some nested
# hypervisors the guest never prints anything (measured on this test bed's
# build machine), and every boot would then wait for its timeout.
KVM_OK=
kvm_boots() {
	if [ -z "$KVM_OK" ]; then
		KVM_OK=no
		if [ -w /dev/kvm ]; then
			local t; t=$(mktemp)
			timeout 30 qemu-system-x86_64 -accel kvm -machine pc -cpu max,la57=off -m 128 -kernel "$BZIMAGE" \
				-append "console=ttyS0 panic=-1" -display none -serial "file:$t" -no-reboot >/dev/null 2>&1 &
			local q=$! i
			for i in $(seq 30); do
				sleep 1
				if grep -q 'Linux version' "$t" 2>/dev/null; then KVM_OK=yes; break; fi
			done
			kill $q 2>/dev/null || true
			wait $q 2>/dev/null || true
			rm -f "$t"
		fi
		[ $KVM_OK = yes ] || log "KVM unavailable or not booting here: TCG"
	fi
	[ $KVM_OK = yes ]
}

run_scenario() {
	local sc=$1 dir
	dir=$(scenario_dir "$sc")
	# ELF (crash's primary answers) and zlib for every scenario, every
	# format for sysrq, and whatever committed.txt packs for this dump.
	local formats=elf,zlib f
	for f in $(awk -v n="$VERSION-$sc" '$1 == n { $1 = ""; print }' "$here/committed.txt"); do
		case ,$formats, in *,$f,*) ;; *) [ "$f" = qemu ] || formats+=,$f ;; esac
	done
	case $sc in
	sysrq) formats=elf,zlib,lzo,zstd,flat ;;
	qemu) formats= ;;
	esac
	# The distro kernel's dumps are for the benchmark: ELF and zlib are enough.
	[ -z "$DEBKVER" ] || [ "$sc" = qemu ] || formats=elf,zlib
	rm -rf "$dir" && mkdir -p "$dir"
	# Per-boot disks and monitor: two runs (a scenario and a benchmark's
	# dump, say) must not share them.
	local disks=$WORK/run-$VERSION-$sc
	mkdir -p "$disks"
	rm -f "$disks/swap.img" "$disks/ext2.img"
	truncate -s 64M "$disks/swap.img"
	truncate -s 32M "$disks/ext2.img"
	# KVM when /dev/kvm is writable (a boot takes seconds), else TCG; KVM=0
	# forces TCG. 6.1's sysrq and qemu scenarios run with 5-level paging
	# (LA57), the rest with 4-level, so that one vmlinux meets both: KVM
	# offers LA57 only where the host CPU has it, so those two boots fall
	# back to TCG elsewhere.
	local accel="-accel tcg,thread=multi" cpu=max,la57=off
	if [ "${KVM:-1}" = 1 ] && kvm_boots; then accel="-accel kvm"; fi
	case $VERSION:$sc in
	6.1:sysrq | 6.1:qemu | debian-6.1.*:*)
		cpu=max
		if [ "$accel" = "-accel kvm" ] && ! grep -qw la57 /proc/cpuinfo; then
			log "no LA57 on this CPU: TCG for 5-level paging"
			accel="-accel tcg,thread=multi"
		fi
		;;
	esac
	# Where the capture kernel writes: the 9p share, or (no 9p in Debian's
	# cloud kernels) a third virtio disk with ext4, read back with debugfs.
	local share=(-virtfs "local,path=$dir,mount_tag=out,security_model=none,id=out") outarg=9p
	local outimg=$WORK/out-$VERSION.img
	if [ -n "$DEBKVER" ]; then
		rm -f "$outimg"
		truncate -s $((MEM * 3 + 256))M "$outimg"
		mkfs.ext4 -q -F "$outimg"
		share=(-drive "file=$outimg,if=virtio,format=raw")
		outarg=blk
	fi
	local mon=$disks/mon
	rm -f "$mon.in" "$mon.out"; mkfifo "$mon.in" "$mon.out"
	# no_timer_check: under TCG on a loaded host the IO-APIC timer check
	# can miss its ticks and panic the guest ("IO-APIC + timer doesn't work!",
	# seen on the 6.12 cpu1 boot); init passes it to the capture kernel too.
	local extra=
	[ "$sc" != biglog ] || extra=" log_buf_len=${LOGBUF:-4M}"
	log "booting $VERSION scenario $sc (cpu $cpu, $accel)"
	# shellcheck disable=SC2086
	qemu-system-x86_64 $accel -machine pc -cpu "$cpu" -smp 2 -m "$MEM" \
		-kernel "$BZIMAGE" -initrd "$WORK/initramfs-$VERSION.cpio.gz" \
		-append "console=ttyS0 no_timer_check crashkernel=${CRASHKERNEL:-128M} panic=0 gocrash.scenario=$sc gocrash.formats=$formats gocrash.out=$outarg$extra${APPEND:+ $APPEND}" \
		-display none -serial "file:$dir/serial.log" -monitor "pipe:$mon" -no-reboot \
		-drive file="$disks/swap.img",if=virtio,format=raw -drive file="$disks/ext2.img",if=virtio,format=raw \
		"${share[@]}" \
		-device vmcoreinfo &
	local qpid=$!
	exec 7>"$mon.in" 8<"$mon.out"
	cat <&8 >/dev/null &
	local catpid=$!
	local t=0
	while kill -0 $qpid 2>/dev/null; do
		sleep 5; t=$((t + 5))
		if [ "$sc" = qemu ] && grep -q 'Kernel panic - not syncing' "$dir/serial.log" 2>/dev/null; then
			sleep 3
			log "guest panicked: QEMU dump-guest-memory"
			echo "dump-guest-memory $dir/vmcore.qemu" >&7
			while [ "$(stat -c %s "$dir/vmcore.qemu" 2>/dev/null || echo 0)" = 0 ]; do sleep 2; done
			sleep 20
			echo quit >&7
			wait $qpid || true
			break
		fi
		if [ $t -ge "${TIMEOUT:-1800}" ]; then
			log "timeout: killing qemu"; kill $qpid; break
		fi
	done
	exec 7>&- 8<&-
	kill $catpid 2>/dev/null || true
	rm -f "$mon.in" "$mon.out"
	if [ -n "$DEBKVER" ]; then
		local f
		for f in dmesg.txt vmcore.elf vmcore.zlib vmcore.lzo vmcore.zstd vmcore.flat; do
			debugfs -R "dump /$f $dir/$f" "$outimg" 2>/dev/null || true
			[ -s "$dir/$f" ] || rm -f "$dir/$f"
		done
		rm -f "$outimg"
		ln -sf "$VMLINUX" "$dir/vmlinux"
	else
		cp "$VMLINUX" "$dir/vmlinux"
		# The test module with its debuginfo (crash's mod -s reads it).
		cp "$WORK/oopsmod-$VERSION/gocrash_oops.ko" "$dir/"
	fi
	grep -q 'gocrash-capture: all done' "$dir/serial.log" || [ "$sc" = qemu ] || { log "capture failed: see $dir/serial.log"; return 1; }
}

# crash 8.0.6's answer for each command, one file a command (record_crash).
# One block per area, each with a comment naming it: a helper adds its
# commands to its own block (and records them on the committed dumps with
# record.sh), so that every regeneration records them again. {name} is a
# placeholder (testdata/mkdump/placeholders): a value of the dump that changes
# with each regeneration. The commands that change crash's context come last.
CRASH_CMDS=(
	# --- test bed: the first commands (sys, bt, log, ps, runq, kmem -i, set)
	"sys" "bt" "bt -a" "bt -a -l" "bt -t" "log" "log -T" "log -m" "log -t" "log -d" "log -c" "log -a" "log -s" "ps" "runq" "kmem -i"
	"set" "sys -c"
	# --- rd: every size, radix and mode, bad addresses
	"rd linux_banner 8" "rd -a linux_banner" "rd -64 jiffies 4"
	"rd -32 jiffies 8" "rd -16 linux_banner 16" "rd -8 linux_banner 32" "rd -s init_task 8"
	"rd -d jiffies 4" "rd -x linux_banner 8"
	"rd -8 linux_banner 40" "rd -16 linux_banner 20" "rd -32 linux_banner 10"
	"rd -64 linux_banner 5" "rd linux_banner 1" "rd linux_banner 3"
	"rd -D jiffies 4" "rd -d -32 linux_banner 6" "rd -D -32 linux_banner 6"
	"rd -d -16 linux_banner 9" "rd -D -16 linux_banner 9" "rd -d -8 linux_banner 20"
	"rd -x linux_banner 4" "rd -x -8 linux_banner 20"
	"rd -s init_task 32" "rd -s sys_call_table 8" "rd -s -32 sys_call_table 8" "rd -s -x init_task 8"
	"rd -N -32 linux_banner 4" "rd -N -16 linux_banner 4"
	"rd -R linux_banner 4" "rd -o 8 linux_banner 2"
	"rd -a linux_banner 200" "rd -a -x linux_banner 20"
	"rd ffffffffdeadbeef" "rd -32 ffffffffdeadbeef 4"
	"rd -p 0 4" "rd -p 1000 4" "rd -p fffffff000 2"
	"rd -8 init_uts_ns 64" "rd -a init_uts_ns 400"
	"rd jiffies" "rd -64 jiffies_64 1" "rd -d avenrun 3"
	# --- ps: every option, names, regular expressions, bad arguments
	"ps -k" "ps -u" "ps -G" "ps -p" "ps -c" "ps -t" "ps -a" "ps -g" "ps -r" "ps -s" "ps -S" "ps -A" "ps -l"
	"ps 1" "ps kthreadd" "ps threads" "ps -G threads" "ps -c 2" "ps 99999"
	"ps '^k'" "ps 'sh\$' init" "ps 'a b'" "ps '['" "ps -G ':1H\$'"
	# --- bt: options, tasks by pid, the active tasks of a list of cpus, a
	# cpu that is not there, a list that is not one
	"bt -f" "bt -l" "bt -e" "bt -s" "bt -sx" "bt 2" "bt -f 2" "bt -t 2" "bt 0" "bt 99999"
	"bt -c 1" "bt -c 0,1" "bt -c 5" "bt -c x"
	# --- runq
	"runq -t" "runq -c 1" "runq -g" "runq -d" "runq -m" "runq -T"
	# --- system (kmem -s/-S/ADDRESS, ...): slab caches, a cache by name, a
	# cache that does not exist, a slab object and a slab page by
	# placeholder, two flags at once
	"kmem -s" "kmem -s kmalloc-64" "kmem -S kmalloc-64" "kmem -s kmem_cache"
	"kmem -S kmem_cache" "kmem -S=1 kmalloc-64" "kmem -s list" "kmem -s bogus"
	"kmem -S bogus" "kmem -s {slabobj}" "kmem -S {slabobj}" "kmem {slabobj}"
	"kmem {slabpage}" "kmem -s {slabpage}" "kmem -s -i"
	# --- system (continued): mounts, swap, memory counters, zones, nodes, free lists,
	# vmalloc, page flags, per-cpu offsets, kernel config and DMI, irqs,
	# devices, timers, wait queues, with crash's messages for what the
	# kernel lacks
	"mount" "mount -f" "mount -i" "mount -n 1" "mount -n 99999" "mount -x"
	"swap" "swap -x" "kmem -V" "kmem -z" "kmem -h" "kmem -o" "kmem -o 1000"
	"kmem -n" "kmem -f" "kmem -v" "kmem -g 200" "kmem -g" "kmem -c" "kmem -C"
	"kmem -P 1000" "kmem -p 1000" "kmem -p {slabpage}" "sys config" "sys -i"
	"irq" "irq -s" "irq -a" "irq -b" "irq -d" "irq 4" "dev" "dev -d" "dev -i" "dev -p"
	"timer" "timer -r" "waitq" "waitq log_wait" "kmem ffffffffdeadbeef"
	# --- system (continued): free lists, kmem ADDRESS of a vmalloc area, a
	# task stack, a task_struct, data and text symbols, a module symbol, a
	# physical address and a free page; disks with I/O; the options crash
	# answers with a message on current kernels
	"dev -D" "dev -V" "kmem -F" "kmem {vmalloc1}" "kmem {vmstack}" "kmem {task1}"
	"kmem {jiffiesaddr}" "kmem {sched16}" "kmem {modsym}" "kmem 1000" "kmem {freepage}"
	"kmem -f {freepage}" "kmem -s -I kmalloc-64,kmem_cache" "kmem -r" "kmem -l a" "kmem -L ic"
	"kmem -v {vmalloc1}" "kmem -v ffffffffdeadbeef"
	# (the whole of kmem -p is 6 MB: its first lines, through crash's pipe)
	"kmem -p | head -300"
	# --- system (continued): kmem -m, struct page members of every page
	# (their first lines) or of the pages named, with crash's messages
	"kmem -m flags,_refcount,lru,mapping,_mapcount,index | head -300"
	"kmem -m compound_head,page_type,private,_refcount.counter,lru.next | head -300"
	"kmem -m flags,_refcount {slabpage}" "kmem -m flags,mapping -P 1000 2000" "kmem -p 1000 {freepage}"
	"kmem -m flags,_refcount ffffffffdeadbeef" "kmem -m foo" "kmem -m flags," "kmem -m flags -f"
	"kmem -m lru.next.prev" "kmem -m mapping.host"
	# --- system (continued): irq/timer/dev/sys/swap/waitq options and
	# arguments: in-use IRQs, chosen IRQs and cpus, taints, wait queues
	# named by symbol, struct.member and address, with crash's messages
	"irq -u" "irq -s -c 0" "irq 0 1 4" "irq 9999" "timer -C 0" "timer -r -C 0" "timer -C 5"
	"dev -v 0" "sys -t" "swap 1" "waitq jiffies" "waitq ffffffffdeadbeef"
	"waitq task_struct.signal {task1}" "waitq task_struct.foo {task1}" "waitq task_struct.signal"
	"waitq nosuchsym" "kmem -S=0,1 kmalloc-64" "kmem -g 1 2" "kmem -z 1000"
	# --- system (continued): option combinations as crash's getopt loops
	# take them (-z/-n after another option, the first of irq -b/-d, a
	# second -c or -S, operands ignored or each answered)
	"sys x config" "sys -c 1 -t" "sys -panic" "kmem -V -z" "kmem -h -z" "kmem -l a -z"
	"kmem -S= kmalloc-64" "kmem -S=0 -S=1 kmalloc-64" "irq -s -c 0 -c 1" "irq -b -d" "timer 1"
	"kmem -s kmalloc-64 ffffffffdeadbeef" "kmem -s 1000" "kmem -s -P 1000"
	# --- mem (issue #12, second half): sym, eval, vtop, ptov,
	# btop, ptob, ascii, list, tree; {placeholders} from testdata/mkdump/placeholders
	"vm 1" "eval schedule+16"
	"sym schedule" "sym jiffies" "sym init_task" "sym {jiffiesaddr}" "sym {sched16}" "sym -l"
	"sym -q sched_tick" "sym -q xyzzy" "sym foo_bar" "sym ffffffffdeadbeef" "sym 0" "sym -n jiffies"
	"sym -p jiffies" "sym -np schedule" "sym -M" "sym -m gocrash_oops" "sym {modsym}"
	"sym schedule jiffies" "sym runqueues" "sym -z" "sym" "sym -q gocrash" "eval (1 + 2)"
	"eval (jiffies - 0xffffffff8fe00000)" "eval 1 + 2" "eval 128 * 1m" "eval (1 << 32)"
	"eval -b 41dc065" "eval -lb 64g" "eval -b 0" "eval jiffies" "eval (jiffies+16)" "eval ~0"
	"eval 1 +" "eval foo + 1" "eval ( 5 % 3 )" "eval 0x10 - 1" "vtop {task1}" "vtop {jiffiesaddr}"
	"vtop -c 1 {jiffiesaddr}" "vtop -k {task1}" "vtop ffffffffdeadbeef" "vtop 1000" "vtop -k 1000"
	"vtop -u {task1}" "vtop -u -k 1000" "vtop" "vtop -c 99999 1000" "vtop zz" "vtop {sched16}"
	"vtop {modsym}" "vtop -c 1 {vma1}" "vtop -u {vma1}" "vtop {task1} {jiffiesaddr}" "ptov 1000"
	"ptov 0" "ptov 1000:0" "ptov 1000:a" "ptov zz" "ptov" "ptov 198000 3407000" "btop 1000"
	"btop 12345678 fff" "btop zz" "ptob 10" "ptob 100 zz" "ptob 0" "ascii 62696c2f7273752f" "ascii"
	"ascii 41 4142" "ascii 0" "ascii zz" "list -H super_blocks"
	"list super_block.s_list -H super_blocks" "list -o super_block.s_list -H super_blocks"
	"list -r -H super_blocks" "list task_struct.tasks -h {task1}"
	"list -h {task1} task_struct.tasks -S task_struct.pid,prio"
	"list -H super_blocks -l super_block.s_list -S super_block.s_blocksize"
	"list -H super_blocks -s super_block.s_id" "list -H modules" "list -H ffffffffdeadbeef"
	"list foo_bar" "list" "list -H super_blocks -S super_block.s_blocksize,s_flags -x"
	"list -H super_blocks -S super_block.s_blocksize -d"
	"list task_struct.tasks -h {task1} -S task_struct.comm"
	"tree -t rbtree -o vmap_area.rb_node vmap_area_root"
	"tree -t rbtree -o vmap_area.rb_node -p vmap_area_root"
	"tree -t rbtree -o vmap_area.rb_node -l vmap_area_root"
	"tree -t rbtree -o vmap_area.rb_node vmap_area_root -S vmap_area.va_start,va_end"
	"tree -t rbtree -o vmap_area.rb_node vmap_area_root -s vmap_area.va_start,va_end"
	"tree -t maple -r mm_struct.mm_mt {mm1}" "tree -t maple -r mm_struct.mm_mt -p {mm1}"
	"tree -t maple -r mm_struct.mm_mt {mm1} -S vm_area_struct.vm_start,vm_end"
	"tree -t radix irq_desc_tree" "tree -t radix -p irq_desc_tree" "tree -t xarray irq_desc_tree"
	"tree -t maple sparse_irqs" "tree -t maple -p sparse_irqs" "tree -t foo vmap_area_root" "tree"
	"tree -t rbtree ffffffffdeadbeef"
	# rd -S/-SS: symbols from crash's table, slab cache names
	"rd -S {task1} 32" "rd -SS {task1} 32" "rd -S init_task 32" "rd -SS init_task 16" "rd -S -32 init_task 4"
	# search: kernel virtual, physical, widths, masks, strings, context, bad arguments
	"search -k {task1}" "search -p {task1}" "search {task1}" "search -K {task1}" "search -V {task1}"
	"search -c \"sysrq triggered\"" "search -p -c \"Linux version\""
	"search -s {task1} -l 4096 {task1}" "search -s {task1} -l 8192 -m ffff {task1}"
	"search -w -s {task1} -l 4096 1" "search -h -s {task1} -l 4096 78"
	"search -x 2 -s {task1} -l 4096 {task1}" "search -s init_task -e jiffies init_task"
	"search -s linux_banner -l 512 -c Linux" "search" "search -z 1" "search -p -k 1"
	"search -w 123456789 " "search -s {task1} -l 64 -c \"\""
	"search -t {task1}" "search -T {task1}" "search -t -T 1" "search -t -k 1" "search -T -s init_task 1"
	# --- dis/mod (code): whole functions, counts, -l -r -f -x -d, bad
	# arguments, the oops module's faulting function (symbol not found on
	# the dumps without it), mod and mod -t, mod's bad arguments
	"dis schedule" "dis -l schedule 10" "dis panic 12" "dis -l panic 5"
	"dis -r panic+20 3" "dis -r panic+20" "dis -x panic 3" "dis -d panic+20 2"
	"dis panic+1 2" "dis -f panic+3000" "dis sysrq_handle_crash"
	"dis -l sysrq_handle_crash" "dis -f sysrq_handle_crash+4" "dis __schedule"
	"dis dev_ethtool" "dis jiffies" "dis nosuchfunc" "dis -b" "dis"
	"dis -r -f panic" "dis panic 0"
	"dis -r gocrash_write_null.constprop.0" "dis -l gocrash_write_null.constprop.0 3"
	"dis gocrash_write_null.constprop.0 4" "dis -f gocrash_write_null.constprop.0 2"
	"mod" "mod -t" "mod -s nosuch" "mod -s gocrash_oops /etc/passwd"
	"mod -q"
	"dis -s jiffies" "dis -s gocrash_write_null.constprop.0" "dis -s -r panic"
	"dis 0" "dis ffffffffdeadbeef" "dis -l mbox_request_channel" "dis __parse_nl_addr.isra.0"
	"dis -f schedule+100 4" "dis -r schedule+100 2" "dis -x -l panic 4"
	"mod -d gocrash_oops" "mod -D" "mod -o" "mod -r" "mod -s gocrash_oops /etc/passwd extra"
	"mod -S /nonexistent"
	# past the end of the kernel's text: _etext and what follows it
	"dis _etext 4" "dis -r _etext 2" "dis -l _etext 2"
	# dis -s lists the source from the tree the kernel was built from
	"dis -s panic" "dis -s schedule 3" "dis -s sysrq_handle_crash"
	# --- shell (#18): crash's aliases and alias errors, repeat's usage, the
	# scroll and other settings, the help list (in this order: "alias"
	# lists the kp made just before it)
	"alias kp kmem -p" "alias" "alias sys foo" "alias xx nosuchcmd" "repeat"
	"set scroll" "set scroll off" "set scroll on" "set scroll less" "set zero_excluded"
	"set -v" "help"
	# free's inputs: the vm_stat counters, the zones' watermarks (the
	# reserve, p totalreserve_pages, after the types block: a p before it
	# would be $1 there, where print_goldens.txt has p jiffies)
	"kmem -V" "kmem -z"
	# --- tasks: foreach (selectors, keywords, flags, bad arguments), files,
	# vm (commands/foreach_test.go's tasksGoldens)
	"foreach bt" "foreach RU bt" "foreach active bt" "foreach UN bt"
	"foreach kernel ps" "foreach user ps" "foreach gleader ps" "foreach init ps"
	"foreach 'k.*' ps" "foreach 1 2 ps" "foreach ID ps" "foreach IN ps"
	"foreach ps -G" "foreach sh ps -p" "foreach 1 ps -t"
	"foreach sh bt -s" "foreach 2 bt -t" "foreach 1 2 bt -l" "foreach 1 set"
	"foreach" "foreach xyz" "foreach bt -g" "foreach user kernel ps" "foreach RU IN ps"
	"foreach 99999 ps" "foreach 'k[' ps" "foreach bt 1"
	"foreach files" "foreach files -c" "foreach files -R TCP" "foreach files -R console"
	"files" "files 1" "files -c 1" "files -R console 1" "files 99999" "files 1 2"
	"files {task1}" "files -d {dentry1}"
	"vm" "vm 1" "vm 2" "vm -f 100073" "vm -f 4044411" "vm {task1}" "vm 99999" "vm 1 2"
	"foreach vm" "foreach vm -R busybox" "foreach sh vm -R {task1}" "vm -R {vmastruct1} 1"
	"bt -p" "bt -g {threads1}" "bt -g {threads2}" "bt -r 2" "bt -v" "bt -g" "bt -g -a"
	"bt -g -c 1" "bt -p 2" "bt -g 0" "bt -r" "foreach 2 bt -r" "foreach sh bt -g" "foreach threads bt"
	"sig" "sig 1" "sig -g {threads1}" "sig -g {threads2}" "sig -l" "sig -s fffffffe7ffbfeff"
	"sig -s 0" "sig -s ffffffffffffffff" "sig 99999" "sig xyz" "sig 1 2" "foreach sig"
	"foreach sig -g" "foreach 1 sig -R pid" "sig pid 1" "foreach sig -l" "sig -g"
	"bt -F 2" "bt -FF 2" "bt -F" "bt -FF 1" "bt -aF" "foreach bt -F" "foreach 1 bt -FF" "net"
	# task, foreach task, vm -p/-P/-m/-v, files -p, net -s/-S/-a/-n/-N,
	# foreach net/vtop, vtop -u, bt -R (commands/task_test.go)
	"task" "task 1" "task -x 1" "task -d 1" "task -R pid,comm 1" "task -R pid -R comm 1"
	"task 1 pid" "task 1 comm,pid" "task -R se.avg 1" "task -R thread_info 1" "task -R flags 1"
	"task -R xyz 1" "task -R se.avg.util_avg,pid 1" "task -R cpus_mask 1" "task 99999" "task xyz"
	"task -x -d 1" "task {task1}" "task 1 2" "task -R pid 1 2" "task -q"
	"foreach 2 init task -R pid" "foreach 1 task" "foreach 1 2 task -x -R comm" "foreach task -x -d"
	"vm -p 1" "vm -P {vmastruct1} 1" "vm -P {vmastruct1}" "vm -m 1" "vm -v 1" "vm -x -m 1"
	"vm -d -v 1" "vm -x -d -m 1" "vm -p -m 1" "vm -p 2" "vm -m 2" "vm -v 2"
	"foreach 1 vm -m" "foreach 1 vm -v" "foreach 1 vm -p"
	"files -p {inode1}" "files -p ffffffffdeadbeef" "files -p 0"
	"net -s" "net -s 1" "net -s {synpid}" "net -S {synpid}" "net -s -x {synpid}" "net -s -d {synpid}"
	"net -a" "net -n" "net -n 1" "net -n 99999" "net -x" "net -N 16777343" "net -N 0x0100007f"
	"net -s 99999" "foreach net" "foreach net -s" "foreach net -S" "foreach {synpid} net -s"
	"foreach net -s -R 3" "foreach vtop {vma1}" "foreach 1 vtop {vma1}" "foreach vtop"
	"foreach vtop -R x 1000" "foreach 1 vtop -u {vma1}"
	"bt -R schedule 2" "bt -R __schedule" "bt -R panic" "bt -R xyz 2" "bt -R {sched16} 2"
	"foreach bt -R panic" "foreach bt -R kthread"
	# bt -o (crash's old method), -E (IRQ and exception stacks), -n idle,
	# -I/-S's errors (crash 8.0.6 dies on a valid -I/-S: commands/bt_old_test.go),
	# foreach ps -l/-m, foreach vtop -c, a hexadecimal "pid" (commands/bt_old_test.go)
	"bt -o" "bt -o 2" "bt -o -a" "foreach bt -o" "bt -E" "bt -E -c 1" "bt -n idle" "bt -a -n idle"
	"bt -n x" "bt -S 0" "bt -S 1234 2" "bt -I xyz 2" "bt -I 0 2" "foreach ps -l" "foreach ps -m"
	"foreach 1 vtop -c 0 1000" "foreach EX ps"
	# --- types: struct, union and their short forms (commands/struct_test.go)
	"struct task_struct {task1}" "struct task_struct.pid,comm,mm {task1}" "task_struct.pid {task1}"
	"task_struct.pid,comm {task1}" "struct -o task_struct" "struct -o list_head"
	"struct -o task_struct {task1}" "struct list_head {task1}"
	"struct -x task_struct.pid,comm,se {task1}" "struct -d task_struct.se {task1}"
	"struct task_struct.pid {task1} 2" "struct task_struct.pid,comm {task1} -2"
	"struct -r list_head {task1}" "struct foo" "struct task_struct.foo {task1}"
	"struct list_head init_task.tasks" "struct -o rq" "struct rq.nr_running,curr runqueues:a"
	"struct rq.nr_running runqueues:0" "struct rq.clock runqueues:1" "struct mm_struct init_mm"
	"struct -l task_struct.tasks list_head {task1}" "struct task_struct init_task"
	"struct sched_class fair_sched_class" "struct timer_list" "struct -o timer_list"
	"struct new_utsname init_uts_ns.name" "struct uts_namespace init_uts_ns" "struct page 0"
	"struct page" "struct -o page" "struct -x task_struct {task1}" "task_struct {task1}" "task_struct"
	"list_head" "struct task_struct.pid" "struct -o task_struct.pid" "struct task_struct.pid,comm"
	"struct -o task_struct.comm {task1}" "struct task_struct.se.avg {task1}"
	"struct task_struct.se.load.weight {task1}" "struct task_struct.pid_links {task1}"
	"struct task_struct.pid_links[1] {task1}" "struct task_struct.comm {task1}"
	"struct task_struct.tasks {task1}" "struct task_struct.thread_info,tasks,mm {task1}"
	"struct rq runqueues:0" "struct rq.curr runqueues:0,1" "struct rq.nr_running runqueues"
	"struct -x rq.clock,nr_running runqueues:a" "sched_class" "struct hrtimer" "struct -o hrtimer"
	"struct -o sched_entity" "struct -o -x sched_entity" "struct -x sched_entity"
	"struct -d -x list_head" "union futex_key" "union sigval" "union rcu_special" "union __sifields"
	"union nf_inet_addr" "union futex_key {task1}" "union sigval {task1}" "union -o futex_key"
	"union -x futex_key {task1}" "union futex_key.both {task1}" "struct futex_key" "union list_head"
	"struct task_struct ffffffffdeadbeef" "struct task_struct.pid ffffffffdeadbeef"
	"struct task_struct.pid,comm ffffffffdeadbeef" "struct -o -x list_head"
	"struct -o list_head {task1}" "struct -d -x task_struct.pid {task1}" "struct list_head {task1} 3"
	"struct list_head.next {task1} -3" "struct -c 2 list_head {task1}" "struct task_struct."
	"struct task_struct.pid,"
	# --- types: p and whatis, in this order: p numbers its results per session (commands/testdata/print_goldens.txt)
	"p jiffies" "p -x jiffies" "p -d jiffies" "p -u jiffies" "p init_task.comm" "p &init_task"
	"p init_task.se" "p init_task.pid" "p init_task.tasks" "p init_task.tasks.next"
	"p &init_task.tasks" "p init_task.sched_class" "p init_task.mm" "p init_task.stack"
	"p init_task.thread_info" "p sizeof(struct task_struct)" "p sizeof(init_task)" "p runqueues"
	"p runqueues:a" "p runqueues:0,1" "p irq_stat:a" "p (struct list_head *)&init_task.tasks"
	"p *(struct list_head *)&init_task.tasks" "p ((struct list_head *)&init_task.tasks)->next"
	"p init_task.comm[0]" "p jiffies + 1" "p jiffies * 2" "p linux_banner" "p init_uts_ns"
	"p init_uts_ns.name.release" "p schedule" "p &schedule" "p *schedule" "p foo" "p init_task.foo"
	"p sys_call_table" "p sys_call_table[0]" "p nr_cpu_ids" "p cpu_online_mask" "p __cpu_online_mask"
	"p -x init_task.se" "p avenrun" "p init_mm.pgd" "p init_task.signal" "p *init_task.signal"
	"p init_task.prio" "p init_task.flags" "p init_task.__state" "p init_task.policy"
	"p init_task.cpus_mask" "p init_task.thread" "p init_task.stack_canary"
	"p init_task.pushable_tasks" "p \$" "p \$1" "p 1+2" "p -1" "p 0x10" "p 'jiffies'"
	"whatis task_struct" "whatis struct task_struct" "whatis jiffies" "whatis schedule"
	"whatis init_task" "whatis init_task.comm" "whatis list_head" "whatis foo" "whatis -o list_head"
	"whatis -o struct list_head" "whatis union thread_union" "whatis runqueues" "whatis linux_banner"
	"whatis sys_call_table" "whatis init_task.sched_class" "whatis pid_t" "whatis enum pid_type"
	"p -x init_task.comm" "p -x init_task.comm[0]" "p -x init_task.prio" "p -x init_task.tasks"
	"p -d init_task.tasks" "p -x init_task.se.load" "p init_task.thread_info.flags"
	"p &init_task.comm" "p *init_task.stack" "p init_task.pid_links" "p init_task.pid_links[0]"
	"p &init_task.pid_links[1]" "p init_task.cpus_ptr" "p *init_task.cpus_ptr"
	"p init_task.se.load.weight * 2" "p init_task.prio - init_task.static_prio" "p (long)jiffies"
	"p (char)65" "p sizeof(long)" "p sizeof(struct list_head)" "p &((struct task_struct *)0)->tasks"
	"p 1 == 1" "p 10 % 3" "p 1 << 4" "p ~0" "p !0" "p 3 - 5" "p 0x7fffffff + 1" "p 4294967295 + 1"
	"p init_task.dl.dl_timer" "p init_task.restart_block" "p init_task.tls_array"
	"p init_task.thread.tls_array[0]" "p init_task.rss_stat" "p init_task.posix_cputimers"
	"p init_task.real_parent->comm" "p init_task.real_parent->pid" "p *init_task.real_parent"
	"p (*init_task.real_parent).pid" "p init_task.tasks.next->next"
	"p init_task.sched_class->enqueue_task" "p *init_task.sched_class"
	"p init_task.thread.fpu.fpstate->regs.xsave.header" "p init_task.cred" "p *init_task.cred"
	"p init_task.files" "p init_task.nsproxy->uts_ns->name" "p jiffies_64" "p -x jiffies_64"
	"p avenrun[0]" "p linux_banner[0]" "p &linux_banner" "p init_uts_ns.name.sysname"
	"p init_cred.usage" "p init_mm" "p init_mm.mmap_base" "p -x init_mm.flags"
	"p cpu_online_mask->bits" "p __per_cpu_offset" "p __per_cpu_offset[1]" "p cpu_number:a"
	"p current_task:a" "p current_task:1" "p this_cpu_off:0" "p nr_running" "p system_state"
	"p panic_cpu" "p oops_in_progress" "p tainted_mask" "p loops_per_jiffy" "p printk" "p &printk"
	"p schedule+4" "p (char *)linux_banner" "p *linux_banner@5" "p init_task.comm + 1"
	"p &init_task.comm[4]" "p init_pid_ns" "p &init_pid_ns.pid_allocated" "p init_pid_ns.level"
	"whatis jiffies_64" "whatis init_task.se" "whatis struct sched_entity" "whatis cpumask_t"
	"whatis atomic_t" "whatis sys_call_ptr_t" "whatis init_mm" "whatis printk"
	"whatis init_task.sched_class->enqueue_task" "whatis sched_class" "whatis union thread_union"
	"whatis enum hrtimer_restart" "whatis hrtimer_restart" "whatis TT_NONE" "whatis current_task"
	"whatis init_task.pid_links" "whatis avenrun" "whatis __per_cpu_offset" "whatis struct page"
	"whatis -o struct page" "p *(long *)0" "p *(struct task_struct *)0" "p (struct task_struct *)0"
	"p ((struct task_struct *)0)->pid" "p -x -d jiffies" "p" "p init_task.comm[100]"
	"p init_task.pid_links[7]" "p sizeof(struct foo)" "p (struct foo *)0" "p jiffies:0"
	"p runqueues:0.nr_running" "p init_task.se.on_rq" "p init_task.in_iowait"
	"p init_task.rt.timeout + 5" "p &init_task.se.avg"
	"p init_task.tasks.next == init_task.tasks.prev" "p 07" "p 'A'" "p '\\n'" "p 1 ? 2 : 3" "p -1 + 2"
	"p (unsigned char)300" "p (short)-1" "p (unsigned long)-1" "p (int *)jiffies" "p *(int *)&jiffies"
	"p/x jiffies" "whatis (struct task_struct *)0" "whatis init_task.tasks.next" "whatis &init_task"
	"whatis *init_task.sched_class" "whatis 1+1" "whatis sizeof(int)" "whatis -o task_struct.pid"
	"whatis -o pid_t" "whatis union futex_key" "whatis futex_key" "whatis struct foo"
	"p totalreserve_pages"
	# p/FMT: gdb's format letters, each on a scalar, a struct, an array, a
	# pointer (commands/testdata/print_goldens.txt)
	"p/x init_task.se.load" "p/x init_task.tasks" "p/x init_task.comm" "p/d jiffies" "p/u -1"
	"p/d 0xffffffff" "p/o init_task.prio" "p/t init_task.prio" "p/c init_task.comm[0]"
	"p/c init_task.comm" "p/c 65" "p/a init_task.sched_class" "p/a jiffies" "p/s init_task.comm"
	"p/z init_task.prio" "p/x init_task.in_iowait" "p/d init_task.tasks.next"
	"p/x *init_task.sched_class" "p/x init_task.se.vruntime" "p/q jiffies" "p/2x jiffies" "p/x -1"
	"p/d init_task.se.load" "p/x init_task.thread_info" "p/t 10" "p/o 0" "p/c init_task.pid"
	"p/a &init_task" "p/s linux_banner" "p/x linux_banner" "p/x init_task.se" "p/d init_task.comm"
	# --- types: ptype, gdb's own command (commands/testdata/ptype_goldens.txt)
	"ptype struct list_head" "ptype struct task_struct" "ptype union futex_key" "ptype init_task"
	"ptype jiffies" "ptype schedule" "ptype &init_task" "ptype int" "ptype pid_t"
	"ptype enum pid_type" "ptype atomic_t" "ptype init_task.comm" "ptype avenrun"
	"ptype init_task.pid_links" "ptype init_task.sched_class"
	"ptype init_task.sched_class->enqueue_task" "ptype struct sched_class" "ptype struct rq"
	"ptype runqueues" "ptype linux_banner" "ptype printk" "ptype sys_call_table" "ptype cpumask_t"
	"ptype struct page" "ptype union thread_union" "ptype init_task.se" "ptype struct foo" "ptype foo"
	"ptype list_head" "ptype struct list_head *" "ptype unsigned long" "ptype sizeof(int)" "ptype 1+1"
	"ptype (char)65" "ptype init_task.tasks.next" "ptype *init_task.sched_class"
	"ptype struct hrtimer" "ptype enum hrtimer_restart" "ptype TT_NONE" "ptype init_mm"
	"ptype struct mm_struct" "ptype __per_cpu_offset" "ptype current_task" "ptype init_task.thread"
	"ptype struct timer_list" "ptype init_uts_ns" "ptype struct new_utsname" "ptype sys_call_ptr_t"
	"ptype init_task.__state" "ptype init_task.cpus_mask" "ptype struct file_operations"
	"ptype spinlock_t" "ptype struct kmem_cache" "ptype init_task.foo" "ptype enum"
	"ptype struct sk_buff" "ptype struct inode" "ptype union sigval" "ptype init_task.thread_info"
	"ptype &init_task.tasks" "ptype init_task.stack" "ptype *init_task.signal" "ptype struct fpu"
	"ptype struct xregs_state" "ptype irq_stat" "ptype nr_cpu_ids" "ptype cpu_online_mask"
	"ptype init_pid_ns" "ptype struct zone"
	# --- types: struct -p (each pointer member followed), -u (user memory
	# of the current context), -f (the dump file itself), rd -f, whatis
	# -r/-m (commands/struct_test.go's structMoreGoldens). After the p
	# block: crash's -p prints the targets through gdb, numbering them in
	# gdb's value history
	"struct -p task_struct {task1}"
	"task_struct.stack,mm,comm,sched_class,real_parent,thread_pid,files,pid {task1} -p"
	"struct -p list_head {task1}" "struct -p task_struct" "struct -px task_struct.thread_info,stack {task1}"
	"struct -p sched_class fair_sched_class" "struct -p file_operations def_blk_fops"
	"union -p rcu_special {task1}" "struct -p -o list_head {task1}" "struct -p -r list_head {task1}"
	"struct -u elf64_hdr {vma1}" "struct -u -x elf64_hdr {vma1}" "struct -u elf64_hdr.e_entry,e_phoff {vma1}"
	"struct -u -r elf64_hdr {vma1}" "struct -u -o elf64_hdr {vma1}" "struct -u elf64_hdr ffffffffdeadbeef"
	"struct -f elf64_hdr 0" "struct -f -x elf64_hdr 0" "struct -f elf64_hdr 64" "struct -f -r elf64_hdr 0"
	"struct -f -o elf64_hdr 0" "struct -f elf64_hdr 0:a" "struct -f elf64_hdr 99999999999"
	"struct -f elf64_hdr 0 2" "rd -f 0 4" "rd -f 99999999999 2"
	"whatis -m task_struct" "whatis -m mm_struct" "whatis -r 100-200 -m list_head"
	"whatis -r 40-100 -m mm_struct" "whatis -m nosuchtype" "whatis -r 5-3" "whatis -r abc" "whatis -r 1"
	"whatis -r 4" "whatis -r" "whatis -m" "whatis -r xyz"
	# search -u (the current context's user memory, VMA by VMA) and dis -u
	"search -u deadbeef" "search -u -l 64 0" "search -u -w -l 32 0" "search -u -s ffffffffdeadbeef 0"
	"search -u -c -l 4096 ELF" "search -u -t 1" "dis -u {vma1} 4" "dis -u ffffffffdeadbeef 2"
	# --- test bed: answers recorded on main (record.sh) that no block
	# above named yet (goldens.sh found them), kept so a regeneration
	# records them again: their owners move them into their blocks.
	"files -q" "init_task.pid" "union thread_union" "jiffies"
	# --- last: these change the context, and "set -p" restores it.
	"set 2" "set -p" "set 99999"
	# tasks: bt -O makes the old method bt's default, "bt 1" then uses it, and
	# "bt -OO" (crash returns at the first -O) makes the new one the default again
	"bt -O" "bt 1" "bt -OO"
	# pte (commands/pte_test.go): a kernel page's entry, a user page's, zero, a swap entry (type 0), a bad value
	"pte 8000000000198163" "pte 0" "pte 1a0e2067" "pte 2" "pte 8000000000198163 0" "pte zz" "pte"
	# mach, ipcs, fuser, and the commands a dump file refuses (commands/mach_test.go):
	# the machine's summary, its cpuinfo_x86s and e820 map; the System V IPC
	# of init's namespace (none on the test bed) and an id that is none; the
	# users of /, the console, busybox and a path nobody uses, and bad
	# arguments; wr (crash: not allowed on dumpfiles), extend (none loaded),
	# and the empty answers of sbitmapq and bpf's listings
	"mach" "mach -c" "mach -m" "mach -x" "mach -c -x" "mach -c -m" "mach -x -d" "mach -q"
	"ipcs" "ipcs -s" "ipcs -m" "ipcs -M" "ipcs -q" "ipcs -n 1" "ipcs 0"
	"wr jiffies 0" "wr" "extend" "extend /nonexistent.so"
	"fuser /" "fuser /dev/console" "fuser /bin/busybox" "fuser /nonexistent" "fuser" "fuser xyz"
	"sbitmapq" "bpf" "bpf -m 1" "bpf -P" "bpf -M"
	# bpf's detail options on bpfload's maps (ids 1 and 2) and program (id 1;
	# the ids are the first the kernel gives when nothing else loaded BPF),
	# and sbitmapq on the first disk's tags (placeholders {sbq}, {sbq510}: the
	# sbitmap_queue is embedded in blk_mq_tags since 5.16, behind a pointer
	# before; {staticrqs}: that tag set's request array)
	"bpf -p 1" "bpf -p 1 -t" "bpf -p 1 -T" "bpf -p 1 -j" "bpf -p 1 -s" "bpf -p 1 -s -x"
	"bpf -p 1 -t -j" "bpf -P -t" "bpf -P -s" "bpf -m 2" "bpf -m 1 -s" "bpf -m 2 -s -d" "bpf -M -s"
	"bpf -p 1 -m 1" "bpf -s" "bpf -t" "bpf -p 99" "bpf -m 99" "bpf -p" "bpf -p abc"
	"sbitmapq {sbq}" "sbitmapq -v {sbq}" "sbitmapq -x {sbq}" "sbitmapq -d {sbq}"
	"sbitmapq -s request.tag,cmd_flags -a {staticrqs} -p {sbq}" "sbitmapq -s request -a {staticrqs} -p {sbq}"
	"sbitmapq {sbq510}" "sbitmapq -v {sbq510}" "sbitmapq 0" "sbitmapq -x -d {sbq}"
	# the last crash options gocrash lacked (commands/options_golden_test.go):
	# bt -A (S390X only: crash's refusal) and bt -D's framesize-debug forms
	# that leave crash's state as it was (seek, noseek, then clear; not dump,
	# whose answer is the cache the commands before it filled, nor
	# [no]framepointer or SIZE -I, which change what later bts answer);
	# search -v (in crash's getopt string, not in its switch); set -a on the
	# panic task ({panicpid}, {panictask}: marking the task that is already
	# active changes nothing after it); sig -R (crash: "not supported yet");
	# sym -Q and sym -s (not sym -Q of a name no symbol holds: crash 8.0.6
	# then reads its uninitialized syment pointer and dies); task -h (crash's
	# -x). sym -L is crash's -l (symbols.c: "obsolete"), compared with sym
	# -l's answer.
	"bt -A" "bt -A 1" "bt -D" "bt -D seek" "bt -D noseek" "bt -D clear" "bt -D level-1"
	"bt -D validate" "bt -D orc" "bt -D orc -I schedule" "bt -D validate -I schedule" "bt -D bogus"
	"search -v 0 1" "search -v"
	"set -a {panicpid}" "set -a {panictask}" "set -a 99999" "set -a xyz" "set -a"
	"sig -R comm" "sig -R comm,pid 1" "sig comm 1" "sig -R pid 99999" "sig -R pid xyz"
	"sym -Q jiffies" "sym -Q init_task init_task" "sym -Q gocrash"
	"sym -s jiffies" "sym -s schedule" "sym -s {sched16}" "sym -s init_task" "sym -s -n schedule"
	"sym -s -p schedule" "sym -s linux_banner" "sym -s {modsym}" "sym -s _etext" "sym -s __per_cpu_start"
	"task -h" "task -h 1" "task -h -d 1" "task -d -h 1"
)
# The test module's object file loaded (commands/mod_test.go's
# modLoadGoldens), in a crash session of its own: mod -s changes what
# follows (crash's bt then leaves out module frames), and recorded after
# CRASH_CMDS' thousand commands crash 8.0.6's mod -s placed none of the
# object's sections ("p &gocrash_spins" answered 0x640 on 6.1-oops, 0x0 on
# 6.12-oops), where a fresh session places them all. crash finds
# gocrash_oops.ko in the directory tree of the vmlinux (kernel.c's
# module_objfile_search; Debian's crash does not look in the current
# directory), where the dump's directory has it. "mod -gr" is mod's list
# (crash takes -g and -r out of the options) under a golden name of its
# own, so that mod.txt stays CRASH_CMDS' answer; mod -s with a file that
# does not exist loads the module too (crash searches for it by name), so
# it comes after mod -d, and the session ends there.
MODLOAD_CMDS=("mod -s gocrash_oops" "mod -gr" "dis gocrash_write_null.constprop.0"
	"dis -l gocrash_write_null.constprop.0"
	# the module's symbols, variables and types from its debuginfo, and
	# bt naming its frames (names no earlier command has; "bt -l -a" is
	# bt -a -l under a golden name of its own: CRASH_CMDS has bt -a -l)
	"sym gocrash_write_null.constprop.0" "bt -l -a" "p gocrash_spins" "p &gocrash_spins"
	"whatis gocrash_target" "p __this_module.name" "whatis gocrash_write_null.constprop.0"
	"mod -d gocrash_oops" "mod -s gocrash_oops /nonexistent/gocrash_oops.ko"
	# mod -S DIR: every module's object file searched for under DIR
	# (crash runs where gocrash_oops.ko is: ./gocrash_oops.ko), once mod
	# -D unloaded the one the line before found in the vmlinux's tree
	# (mod -D answers nothing, as in CRASH_CMDS)
	"mod -D" "mod -S .")
# A Debian kernel's module types after mod -s (commands/modtypes_test.go):
# virtio_blk's object file with its debuginfo from the -dbg package, found
# through $CRASH_MODULE_PATH, in a session of their own.
MODTYPE_CMDS=("mod -s virtio_blk" "struct virtio_blk" "struct -o virtio_blk" "struct virtio_blk_vq"
	"whatis struct virtio_blk_vq" "ptype struct virtio_blk" "p sizeof(struct virtio_blk)" "virtio_blk_vq"
	"struct virtio_blk.num_vqs" "p *(struct virtio_blk *)((struct gendisk *)0x{gendisk1})->private_data"
	"p ((struct virtio_blk *)((struct gendisk *)0x{gendisk1})->private_data)->num_vqs"
	"p/x ((struct virtio_blk *)((struct gendisk *)0x{gendisk1})->private_data)->io_queues"
	"whatis virtio_blk" "p virtblk_fops" "whatis virtblk_getgeo")
# The commands whose answers could depend on the dump's format (headers,
# notes, page reads), recorded on every other format of a dump.
FORMAT_CMDS=("sys" "bt" "bt -a" "ps" "ps -a" "log" "runq" "kmem -i" "rd linux_banner 8" "rd -64 jiffies 4" "rd -p 0 4" "rd -p 1000 4" "rd -p fffffff000 2")
record_crash() {
	local dir=$1
	mkdir -p "$dir/crash"
	# crash 8.0.6 cannot initialise its kmem cache table on a SLUB_TINY
	# kernel (no per-cpu slabs: "invalid structure member offset:
	# kmem_cache_s_num"), which tinyconfig selects on 6.2 and later unless
	# kernel.config says otherwise: it is then run with --no_kmem_cache.
	CRASH_OPTS=()
	if grep -q '^CONFIG_SLUB_TINY=y' "$KSRC/.config" 2>/dev/null; then
		CRASH_OPTS=(--no_kmem_cache)
	fi
	{ "${CRASH[@]}" --version | grep -m1 "^crash"; [ ${#CRASH_OPTS[@]} = 0 ] || echo "options: ${CRASH_OPTS[*]}"; } > "$dir/crash/VERSION"
	# The ELF dump's answers go to crash/ (the qemu scenario has only
	# vmcore.qemu: its answers go there); other formats' to crash-FORMAT/.
	local primary=elf
	[ -f "$dir/vmcore.elf" ] || primary=qemu
	local f
	# Only the formats pack.sh commits get their own answers (crash takes
	# minutes a session here); RECORD_ALL=1 records every format made.
	local packed; packed=" $(awk -v n="$(basename "$dir")" '$1 == n { $1 = ""; print }' "$here/committed.txt") "
	for f in "$dir/vmcore.$primary" $(ls "$dir"/vmcore.* | grep -v "vmcore.$primary\$"); do
		local fmt=${f##*.}
		if [ "$fmt" != "$primary" ] && [ "${RECORD_ALL:-0}" != 1 ] && [[ $packed != *" $fmt "* ]]; then
			continue
		fi
		local cdir=$dir/crash
		[ "$fmt" = "$primary" ] || cdir=$dir/crash-$fmt
		mkdir -p "$cdir"
		# Memory reads do not depend on the format: the other formats get
		# FORMAT_CMDS only.
		if [ "$fmt" = "$primary" ]; then
			crash_record "$dir/vmlinux" "$f" "$cdir" "$cdir/session.log" "${CRASH_CMDS[@]}"
			crash_record "$dir/vmlinux" "$f" "$cdir" "$cdir/modload.log" "${MODLOAD_CMDS[@]}"
			if [ -n "$DEBKVER" ]; then
				CRASH_MODULE_PATH=$WORK/$VERSION/root/usr/lib/debug/lib/modules/$DEBKVER \
					crash_record "$dir/vmlinux" "$f" "$cdir" "$cdir/modtypes.log" "${MODTYPE_CMDS[@]}"
			fi
		else
			crash_record "$dir/vmlinux" "$f" "$cdir" "$cdir/session.log" "${FORMAT_CMDS[@]}"
		fi
		[ -s "$cdir/session.log" ] || rm -f "$cdir/session.log"
		# crash's start-up block (what it prints before the first prompt).
		echo q | timeout 300 "${CRASH[@]}" "${CRASH_OPTS[@]}" "$dir/vmlinux" "$f" > "$cdir/startup.txt" 2>&1 || true
		# formats other than ELF keep only what differs from the ELF goldens.
		if [ "$fmt" != "$primary" ]; then
			local g
			for g in "$cdir"/*.txt; do
				if cmp -s "$g" "$dir/crash/$(basename "$g")"; then rm -f "$g"; fi
			done
		fi
	done
}

install_deps
if [ "${RECORD_ONLY:-0}" = 1 ]; then
	# Only crash's answers again (after CRASH_CMDS grew), on the dumps made before.
	for sc in $SCENARIOS; do record_crash "$(scenario_dir "$sc")"; done
	exit 0
fi
if [ -n "$DEBKVER" ]; then
	fetch_debian_kernel
else
	build_kernel
	build_module
	[ "${BUILD_ONLY:-0}" = 1 ] && { log "built: $VMLINUX"; exit 0; }
fi
build_initramfs
# crash records each dump while the next scenario boots (a crash session
# takes minutes here, a KVM boot one); PIPELINE=0 does one thing at a time.
recording=()
failed=0
for sc in $SCENARIOS; do
	run_scenario "$sc" || { failed=1; continue; }
	if { [ -z "$DEBKVER" ] && ! is_scale "$sc"; } || [ "${RECORD:-0}" = 1 ]; then
		if [ "${PIPELINE:-1}" = 1 ]; then
			# At most two sessions at once: the oldest is waited for.
			if [ ${#recording[@]} -ge 2 ]; then
				wait "${recording[0]}" || failed=1
				recording=("${recording[@]:1}")
			fi
			record_crash "$(scenario_dir "$sc")" &
			recording+=($!)
		else
			record_crash "$(scenario_dir "$sc")"
		fi
	fi
done
for p in "${recording[@]}"; do wait "$p" || failed=1; done
[ $failed = 0 ] || { log "some scenarios failed (see their serial.log)"; exit 1; }
log "done: $OUT"
