package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/pflag"

	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// luksFlags are the flags that unlock LUKS volumes, shared by every
// command that reads inputs. They name files, never secrets: a secret on
// the command line would be in the shell's history and the process list.
type luksFlags struct {
	keyFiles    []string // [ID=]FILE
	volumeKeys  []string // [ID=]FILE
	offset      int64
	size        int64
	slot        int
	memoryLimit int64 // MiB
	noPrompt    bool
}

// theLUKSFlags holds them for the command being run (one per process).
var theLUKSFlags = &luksFlags{slot: luks.AllSlots}

func addLUKSFlags(fs *pflag.FlagSet) {
	l := theLUKSFlags
	fs.StringArrayVar(&l.keyFiles, "key-file", nil, "`[ID=]FILE`: unlock LUKS volumes with the bytes of FILE (a passphrase or key file, read as cryptsetup reads --key-file); ID=FILE for the LUKS device of that id only; repeatable")
	fs.Int64Var(&l.offset, "keyfile-offset", 0, "skip this many bytes at the start of each key file")
	fs.Int64Var(&l.size, "keyfile-size", 0, "read at most this many bytes of each key file (0: all)")
	fs.StringArrayVar(&l.volumeKeys, "volume-key-file", nil, "`[ID=]FILE`: unlock LUKS volumes with the raw volume key in FILE (recovered from memory, say): no key slot needed; repeatable")
	fs.IntVar(&l.slot, "key-slot", luks.AllSlots, "try only this LUKS key slot (default: every active slot)")
	fs.Int64Var(&l.memoryLimit, "kdf-memory-limit", 0, "refuse Argon2 key slots needing more than this many MiB (default: what the machine can give safely)")
	fs.BoolVar(&l.noPrompt, "no-prompt", false, "do not ask for a LUKS passphrase at the terminal")
}

// deviceIDPrefix tells "ID=FILE" from a file whose name holds "=".
var deviceIDPrefix = regexp.MustCompile(`^(in[0-9]+([.][A-Za-z0-9:_./#-]*)?|lv:.+|md:.+)$`)

// splitDevice splits "ID=FILE" into the device id and the file.
func splitDevice(s string) (id, file string) {
	if i := strings.IndexByte(s, '='); i > 0 && deviceIDPrefix.MatchString(s[:i]) {
		return s[:i], s[i+1:]
	}
	return "", s
}

// keyring reads the files the flags name into a keyring, with a
// terminal prompt unless --no-prompt or no terminal (prompt false: the
// inspector asks in its own way). The caller wipes it.
func (l *luksFlags) keyring(prompt bool) (*luks.Keyring, error) {
	k := luks.NewKeyring()
	k.Slot = l.slot
	if len(l.keyFiles) > 0 || len(l.volumeKeys) > 0 || (prompt && !l.noPrompt) {
		noCoreDumps()
	}
	k.MaxMemoryKiB = l.memoryLimit * 1024
	for _, kf := range l.keyFiles {
		id, file := splitDevice(kf)
		b, err := luks.ReadKeyFile(nil, file, l.offset, l.size)
		if err != nil {
			k.Wipe()
			return nil, usageError(fmt.Errorf("--key-file %s: %v", file, strings.TrimPrefix(err.Error(), "luks: ")))
		}
		k.AddSecret(id, b, "--key-file "+file)
		clear(b)
	}
	for _, vf := range l.volumeKeys {
		id, file := splitDevice(vf)
		b, err := luks.ReadKeyFile(nil, file, 0, 0)
		if err != nil {
			k.Wipe()
			return nil, usageError(fmt.Errorf("--volume-key-file %s: %v", file, strings.TrimPrefix(err.Error(), "luks: ")))
		}
		k.AddVolumeKey(id, b, "--volume-key-file "+file)
		clear(b)
	}
	if prompt && !l.noPrompt {
		if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil && term.IsTerminal(tty.Fd()) {
			k.Ask = func(id, label string, tried int) ([]byte, error) {
				fmt.Fprintf(tty, "Passphrase for LUKS volume %s (empty to leave it locked): ", termsafe.Text(id))
				b, err := term.ReadPassword(tty.Fd())
				fmt.Fprintln(tty)
				if err != nil || len(b) == 0 {
					return nil, err
				}
				return b, nil
			}
		} else if err == nil {
			tty.Close()
		}
	}
	return k, nil
}

// withKeys returns opt with the keyring of the LUKS flags.
func withKeys(opt scan.Options, prompt bool) (scan.Options, func(), error) {
	k, err := theLUKSFlags.keyring(prompt)
	if err != nil {
		return opt, nil, err
	}
	opt.Keys = k
	return opt, k.Wipe, nil
}

// files are the key files the flags name: evidence too, never written by
// an export.
func (l *luksFlags) files() []string {
	var out []string
	for _, f := range append(append([]string(nil), l.keyFiles...), l.volumeKeys...) {
		_, file := splitDevice(f)
		out = append(out, file)
	}
	return out
}
