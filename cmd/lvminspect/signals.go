package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// stopSignals end an export (and the inspector) the way ^C does: the
// export stops and removes its temporary file. SIGTERM is what kill and
// timeout send, SIGHUP what a closed terminal or ssh session sends.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalContext is a context cancelled by the first of sigs (default:
// stopSignals); caught reports that signal (nil before one). stop ends
// the catching.
func signalContext(parent context.Context, sigs ...os.Signal) (ctx context.Context, caught func() os.Signal, stop func()) {
	if len(sigs) == 0 {
		sigs = stopSignals
	}
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	var mu sync.Mutex
	var got os.Signal
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			mu.Lock()
			got = s
			mu.Unlock()
			cancel()
		case <-done:
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel()
		})
	}
	caught = func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	return ctx, caught, stop
}

// interruptedStatus is the exit status after signal s: 128 + its number,
// as a shell reports a command the signal ended (130 for ^C, 143 for
// SIGTERM, 129 for SIGHUP).
func interruptedStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok && n > 0 && n < 64 {
		return 128 + int(n)
	}
	return exitInterrupted
}

// signalName is "SIGTERM", "SIGHUP", or "^C" for an interrupt.
func signalName(s os.Signal) string {
	switch s {
	case nil, os.Interrupt:
		return "^C"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprint(s)
}
