package main

// concurrency.Election: candidates queue on one election; each, once it leads, is the only one leading
// (as seen in-process and by Leader and Observe), proclaims a new value, then resigns, which hands the
// leadership to the next candidate in campaign order.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

type observed struct {
	key, value string
	createRev  int64
}

func election(r *report, endpoints []string, label string) {
	const candidates = 3
	name := "/compat/election/" + label
	fail := func(why string, args ...interface{}) {
		r.check("election."+label, false, why, args...)
	}

	// One client and session per candidate, one for the observer, one for a late candidate that gives up.
	var clients []*clientv3.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	session := func() (*concurrency.Session, error) {
		c, err := newClient(endpoints)
		if err != nil {
			return nil, err
		}
		clients = append(clients, c)
		return newSession(c, 10)
	}
	var sessions []*concurrency.Session
	defer func() {
		for _, s := range sessions {
			closeSession(s)
		}
	}()
	for i := 0; i < candidates+2; i++ {
		s, err := session()
		if err != nil {
			fail("session: %v", err)
			return
		}
		sessions = append(sessions, s)
	}
	obsSession, lateSession := sessions[candidates], sessions[candidates+1]
	watcher := concurrency.NewElection(obsSession, name)

	// The observer records everything Observe delivers.
	var obsMu sync.Mutex
	var seen []observed
	octx, ocancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer ocancel()
	obsDone := make(chan struct{})
	go func() {
		defer close(obsDone)
		for resp := range watcher.Observe(octx) {
			if len(resp.Kvs) == 0 {
				continue
			}
			kv := resp.Kvs[0]
			obsMu.Lock()
			seen = append(seen, observed{string(kv.Key), string(kv.Value), kv.CreateRevision})
			obsMu.Unlock()
		}
	}()
	waitObserved := func(key, value string) bool {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			obsMu.Lock()
			n := len(seen)
			last := observed{}
			if n > 0 {
				last = seen[n-1]
			}
			obsMu.Unlock()
			if last.key == key && last.value == value {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}

	var oneLeader, handover, proclaim, observe problems
	var leading int32
	elections := make([]*concurrency.Election, candidates)
	won := make([]chan error, candidates)
	keyOf := func(s *concurrency.Session) string { return fmt.Sprintf("%s/%x", name, s.Lease()) }
	value := func(i int) string { return fmt.Sprintf("candidate-%d", i) }

	// Candidates campaign one after another: each waits until the previous one's key exists, so the
	// campaign order (create revisions) is known.
	for i := 0; i < candidates; i++ {
		elections[i] = concurrency.NewElection(sessions[i], name)
		won[i] = make(chan error, 1)
		go func(i int) {
			ctx, cancel := timeout(30 * time.Second)
			defer cancel()
			err := elections[i].Campaign(ctx, value(i))
			if err == nil {
				if n := atomic.AddInt32(&leading, 1); n != 1 {
					oneLeader.add("candidate %d won while %d others lead", i, n-1)
				}
			}
			won[i] <- err
		}(i)
		present := false
		for tries := 0; tries < 100 && !present; tries++ {
			ctx, cancel := timeout(2 * time.Second)
			resp, err := sessions[i].Client().Get(ctx, keyOf(sessions[i]))
			cancel()
			present = err == nil && len(resp.Kvs) == 1
			if !present {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !present {
			fail("candidate %d's key %s never appeared", i, keyOf(sessions[i]))
			return
		}
	}

	leaderIs := func(what string, key, val string, into *problems) {
		ctx, cancel := timeout(3 * time.Second)
		defer cancel()
		resp, err := watcher.Leader(ctx)
		if err != nil {
			into.add("%s: Leader: %v", what, err)
		} else if got := kvString(resp.Kvs); got != "["+key+"="+val+"]" {
			into.add("%s: Leader says %s, want %s=%s", what, got, key, val)
		}
	}

	for i := 0; i < candidates; i++ {
		select {
		case err := <-won[i]:
			if err != nil {
				handover.add("candidate %d: Campaign: %v", i, err)
				continue
			}
		case <-time.After(10 * time.Second):
			handover.add("candidate %d did not win within 10s of its predecessor resigning", i)
			continue
		}
		for j := i + 1; j < candidates; j++ {
			select {
			case err := <-won[j]:
				oneLeader.add("candidate %d's Campaign returned (%v) while candidate %d leads", j, err, i)
			default:
			}
		}
		key := elections[i].Key()
		if key != keyOf(sessions[i]) {
			handover.add("candidate %d leads with key %q, want %q", i, key, keyOf(sessions[i]))
		}
		if !waitObserved(key, value(i)) {
			observe.add("Observe did not show candidate %d with %q", i, value(i))
		}
		leaderIs(fmt.Sprintf("candidate %d leading", i), key, value(i), &oneLeader)

		if i == 0 {
			// A late candidate gives up after 1s: Campaign returns the context's error and removes its key.
			late := concurrency.NewElection(lateSession, name)
			ctx, cancel := timeout(time.Second)
			err := late.Campaign(ctx, "late")
			cancel()
			var q problems
			if err != context.DeadlineExceeded {
				q.add("Campaign while another leads, 1s deadline: got %v, want %v", err, context.DeadlineExceeded)
			}
			gctx, gcancel := timeout(3 * time.Second)
			resp, gerr := lateSession.Client().Get(gctx, keyOf(lateSession))
			gcancel()
			if gerr != nil {
				q.add("Get: %v", gerr)
			} else if len(resp.Kvs) != 0 {
				q.add("the late candidate's key %s is still there", keyOf(lateSession))
			}
			r.check("election."+label+".campaign-timeout", q.ok(), q.verdict("a Campaign that times out returns DeadlineExceeded and deletes its key"))
		}

		newValue := value(i) + "-proclaimed"
		ctx, cancel := timeout(5 * time.Second)
		if err := elections[i].Proclaim(ctx, newValue); err != nil {
			proclaim.add("candidate %d: Proclaim: %v", i, err)
		}
		cancel()
		if !waitObserved(key, newValue) {
			observe.add("Observe did not show candidate %d's proclaimed %q", i, newValue)
		}
		leaderIs(fmt.Sprintf("candidate %d after Proclaim", i), key, newValue, &proclaim)

		atomic.AddInt32(&leading, -1)
		rev := elections[i].Rev()
		ctx, cancel = timeout(5 * time.Second)
		if err := elections[i].Resign(ctx); err != nil {
			handover.add("candidate %d: Resign: %v", i, err)
		}
		cancel()
		// A stale leader (the key and revision it had) can no longer proclaim: the Txn's compare fails.
		stale := concurrency.ResumeElection(sessions[i], name, key, rev)
		ctx, cancel = timeout(5 * time.Second)
		if err := stale.Proclaim(ctx, "stale"); err != concurrency.ErrElectionNotLeader {
			proclaim.add("Proclaim by candidate %d after it resigned: got %v, want %v", i, err, concurrency.ErrElectionNotLeader)
		}
		cancel()
	}

	// Nobody leads after the last Resign.
	ctx, cancel := timeout(3 * time.Second)
	_, err := watcher.Leader(ctx)
	cancel()
	if err != concurrency.ErrElectionNoLeader {
		handover.add("Leader after every candidate resigned: got %v, want %v", err, concurrency.ErrElectionNoLeader)
	}
	ocancel()
	select {
	case <-obsDone:
	case <-time.After(5 * time.Second):
		observe.add("Observe's channel did not close within 5s of its context being cancelled")
	}

	// Observe's whole sequence: leaders appear in campaign order, never come back, and every value is the
	// campaign or the proclaimed value of the key's own candidate.
	obsMu.Lock()
	order := []string{}
	for _, o := range seen {
		if len(order) == 0 || order[len(order)-1] != o.key {
			order = append(order, o.key)
		}
	}
	obsMu.Unlock()
	want := []string{}
	for i := 0; i < candidates; i++ {
		want = append(want, keyOf(sessions[i]))
	}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		observe.add("Observe's leaders in order %v, want %v", order, want)
	}

	r.check("election."+label+".one-leader", oneLeader.ok(), oneLeader.verdict(fmt.Sprintf(
		"%d candidates: one Campaign returned at a time, and Leader named it", candidates)))
	r.check("election."+label+".resign-hands-over", handover.ok(), handover.verdict(
		"each Resign handed leadership to the next candidate in campaign order; no leader after the last"))
	r.check("election."+label+".proclaim", proclaim.ok(), proclaim.verdict(
		"Proclaim changed the leader's value; a resigned leader's Proclaim gets ErrElectionNotLeader"))
	r.check("election."+label+".observe", observe.ok(), observe.verdict(fmt.Sprintf(
		"Observe showed %d values: each leader and its proclaimed value, in order", len(seen))))
}

// newSession grants the lease itself (with a deadline) and hands it to a Session, whose keep-alive then
// runs until the session is closed.
func newSession(c *clientv3.Client, ttl int64) (*concurrency.Session, error) {
	ctx, cancel := timeout(5 * time.Second)
	defer cancel()
	grant, err := c.Grant(ctx, ttl)
	if err != nil {
		return nil, err
	}
	return concurrency.NewSession(c, concurrency.WithLease(grant.ID), concurrency.WithTTL(int(ttl)))
}

// closeSession stops the keep-alive and revokes the lease (Close bounds the revoke by the TTL).
func closeSession(s *concurrency.Session) {
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(12 * time.Second):
	}
}
