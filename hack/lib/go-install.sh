# Sourced by hack/tools.sh: installs a released Go command from the Go module
# proxy, as the envtest binaries are built, so that a machine that reaches
# nothing but the proxy has it. Each is cached outside the work tree, once per
# version, in ${XDG_CACHE_HOME:-~/.cache}/whatsapp-commerce-operator/<name>/<version>.

# go_install NAME PACKAGE VERSION [LDFLAGS_FUNC]: prints the path of NAME built
# from PACKAGE@VERSION, building it first when the cache lacks it, with the -X
# flags LDFLAGS_FUNC prints (called only then). Parallel callers (test packages
# run at once) wait on a lock and build it once.
go_install() {
  local name=$1 pkg=$2 version=$3 ldflags_func=${4:-}
  local dest="${XDG_CACHE_HOME:-$HOME/.cache}/whatsapp-commerce-operator/$name/$version"
  if [[ ! -x "$dest/$name" ]]; then
    mkdir -p "$(dirname "$dest")"
    (
      flock 9
      if [[ ! -x "$dest/$name" ]]; then
        echo "tools: building $name $version from the Go module proxy (first time only)" >&2
        rm -rf "$dest.tmp"
        local ldflags=""
        [[ -z $ldflags_func ]] || ldflags=$($ldflags_func)
        # go install pkg@version builds with the command's own go.mod, outside
        # this module, so its dependencies never mix with the operator's.
        GOBIN="$dest.tmp" GOFLAGS= CGO_ENABLED=0 go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version" >&2
        rm -rf "$dest" && mv "$dest.tmp" "$dest"
        echo "tools: cached in $dest" >&2
      fi
    ) 9>"$dest.lock"
  fi
  echo "$dest/$name"
}
