package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"sync"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export/graph"
	"github.com/lvminspect/lvminspect/export/nbd"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/scan"
)

func newServeCmd() *cobra.Command {
	var opt scan.Options
	var socket, listen string
	cmd := &cobra.Command{
		Use:   "serve [--socket PATH | --listen ADDR] PATH...",
		Short: "Serve every LV and device read-only over NBD, without copying",
		Long: `serve makes every LV of every VG found (VG/LV, sub-LVs included) and every
device of the device graph (by its id: in1.p2, md:md0, in1.p2.luks...)
an NBD export, read-only: the read-only flag is advertised and writes are
refused. A range that cannot be read answers an I/O error for that request
only. It listens on a Unix socket (--socket) or on TCP, on the loopback
address by default (NBD has no authentication: another address only when
asked for). It ends on Ctrl-C.

Attach an export read-only, for example:
  Linux    nbd-client -N VG/LV -readonly -unix SOCKET /dev/nbd0   (or qemu-nbd)
  FreeBSD  nbd-client (GEOM gate) -n VG/LV HOST PORT
  any      qemu-img convert nbd+unix:///VG/LV?socket=SOCKET out.img
           nbdcopy / nbdinfo 'nbd+unix:///VG/LV?socket=SOCKET'

Exit status:
  0  served until interrupted (Ctrl-C, SIGTERM)
  1  nothing to serve: no LV or device found
  2  usage error, an input that cannot be opened, or a socket or address
     that cannot be listened on`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, closeAll, err := scanInputs(args, opt)
			if err != nil {
				return err
			}
			defer closeAll()
			exports := serveExports(res)
			if len(exports) == 0 {
				return errors.New("nothing to serve: no LV or device found on the inputs")
			}
			var l net.Listener
			var uri func(name string) string
			if socket != "" {
				if l, err = net.Listen("unix", socket); err != nil {
					return usageError(fmt.Errorf("--socket %s: %v", socket, err))
				}
				defer os.Remove(socket)
				uri = func(name string) string {
					return "nbd+unix:///" + url.PathEscape(name) + "?socket=" + socket
				}
			} else {
				host, _, err := net.SplitHostPort(listen)
				if err != nil {
					return usageError(fmt.Errorf("--listen %s: %v", listen, err))
				}
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					fmt.Fprintf(cmd.ErrOrStderr(), "lvminspect: warning: serving on %s: NBD has no authentication, anyone who reaches it reads the evidence\n", listen)
				}
				if l, err = net.Listen("tcp", listen); err != nil {
					return usageError(fmt.Errorf("--listen %s: %v", listen, err))
				}
				uri = func(name string) string { return "nbd://" + l.Addr().String() + "/" + url.PathEscape(name) }
			}
			// Export names hold VG and LV names from the disks: escaped.
			w := newLineWriter(cmd.OutOrStdout())
			fmt.Fprintf(w, "serving %d exports read-only on %s (Ctrl-C ends):\n", len(exports), l.Addr())
			for _, e := range exports {
				fmt.Fprintf(w, "  %-28s %12d bytes  %s\n", e.Name, e.Dev.Size(), uri(e.Name))
			}
			w.Flush()
			served := &servedBytes{n: map[string]int64{}}
			srv := &nbd.Server{Exports: exports, Served: served.add}
			ctx, _, stop := signalContext(cmd.Context())
			defer stop()
			err = srv.Serve(ctx, l)
			ew := newLineWriter(cmd.ErrOrStderr())
			served.print(ew)
			ew.Flush()
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "listen on the Unix socket `PATH`")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:10809", "listen on TCP `ADDR` (host:port; a non-loopback address is warned about)")
	addScanFlags(cmd.Flags(), &opt)
	return cmd
}

// serveExports lists the LVs of every VG (VG/LV; VGUUID/LV where two VGs
// share a name) and every device of the graph that can be read (by id).
func serveExports(res *scan.Result) []nbd.Export {
	var out []nbd.Export
	seen := map[string]bool{}
	names := map[string]int{}
	for _, vg := range res.VGs {
		if vg.Meta != nil {
			names[vg.Meta.Name]++
		}
	}
	for _, vg := range res.VGs {
		if vg.Meta == nil {
			continue
		}
		prefix := vg.Meta.Name
		if names[prefix] > 1 {
			prefix = vg.Meta.UUID
		}
		r := volume.ForScan(vg)
		for _, lv := range vg.Meta.LVs {
			src, err := r.OpenLV(lv)
			if err != nil {
				continue
			}
			name := prefix + "/" + lv.Name
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, nbd.Export{Name: name, Description: "LV " + name, Dev: graph.NewDevice(src, name)})
		}
	}
	for _, d := range res.Devices() {
		if d.Device() == nil || seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		out = append(out, nbd.Export{Name: d.ID, Description: d.Label, Dev: d.Device()})
	}
	return out
}

// servedBytes counts the bytes served per export.
type servedBytes struct {
	mu sync.Mutex
	n  map[string]int64
}

func (s *servedBytes) add(name string, n int64) {
	s.mu.Lock()
	s.n[name] += n
	s.mu.Unlock()
}

func (s *servedBytes) print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for k := range s.n {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "lvminspect: served %d bytes of %s\n", s.n[k], k)
	}
}
