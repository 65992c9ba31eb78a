package luks

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/afero"
)

// MaxKeyFileBytes is cryptsetup's default compiled-in maximum for a key
// file (8192 KiB); a longer key is refused, as cryptsetup aborts.
const MaxKeyFileBytes = 8192 * 1024

// ReadKey reads a key file's secret from r with cryptsetup's --key-file
// semantics (luks.md §5.1): offset bytes are skipped (--keyfile-offset),
// then every byte up to the end is the secret, newlines included, nothing
// trimmed; size > 0 uses at most size bytes after the offset
// (--keyfile-size). A secret longer than MaxKeyFileBytes, a size above
// it, a file shorter than the offset and an empty secret are errors. The
// caller clears the returned secret; buffers outgrown while reading are
// cleared here.
func ReadKey(r io.Reader, offset, size int64) ([]byte, error) {
	if offset < 0 || size < 0 {
		return nil, fmt.Errorf("luks: key file offset %d and size %d must not be negative", offset, size)
	}
	if size > MaxKeyFileBytes {
		return nil, fmt.Errorf("luks: key file size %d is above the maximum of %d bytes", size, MaxKeyFileBytes)
	}
	if offset > 0 {
		if n, err := io.CopyN(io.Discard, r, offset); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("luks: the key file has %d bytes, fewer than the offset %d", n, offset)
			}
			return nil, fmt.Errorf("luks: skipping the key file offset: %w", err)
		}
	}
	limit := int64(MaxKeyFileBytes) + 1
	if size > 0 {
		limit = size
	}
	buf := make([]byte, 0, min(limit, 4096))
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(limit, int64(2*cap(buf))))
			copy(nb, buf)
			wipe(buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), limit)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			wipe(buf)
			return nil, fmt.Errorf("luks: reading the key file: %w", err)
		}
	}
	if int64(len(buf)) > MaxKeyFileBytes {
		wipe(buf)
		return nil, fmt.Errorf("luks: the key file is larger than the maximum of %d bytes (cryptsetup aborts too)", MaxKeyFileBytes)
	}
	if len(buf) == 0 {
		return nil, errors.New("luks: nothing read from the key file")
	}
	return buf, nil
}

// ReadKeyFile is ReadKey on the file name of fsys (the operating
// system's files when fsys is nil).
func ReadKeyFile(fsys afero.Fs, name string, offset, size int64) ([]byte, error) {
	if fsys == nil {
		fsys = afero.NewOsFs()
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("luks: key file: %w", err)
	}
	defer f.Close()
	return ReadKey(f, offset, size)
}

// TerminalPassphrase is the secret cryptsetup derives from a passphrase
// typed at a terminal or piped to its standard input without --key-file
// (luks.md §5.1): the bytes up to the first newline, the newline dropped
// and anything after it ignored; input without a newline is used whole.
// No other character (a carriage return, spaces) is removed. The result
// shares input's memory. A key file's bytes are never treated this way
// (see ReadKey).
func TerminalPassphrase(input []byte) []byte {
	for i, c := range input {
		if c == '\n' {
			return input[:i:i]
		}
	}
	return input
}
