package health

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/providers"
)

// checkTemporal checks Temporal, then what needs it (the namespace, then the task queue's pollers), and the codec.
// A round cut short by ctx (the process stopping) records and logs nothing.
func (c *Checker) checkTemporal(ctx context.Context) {
	defer func() {
		if ctx.Err() == nil {
			c.checkCodec()
		}
	}()
	dependent := []string{CheckNamespace}
	if c.opts.Workers {
		dependent = append(dependent, CheckWorkers)
	}
	if c.opts.Identity != "" {
		dependent = append(dependent, CheckWorker)
	}
	skip := func(names []string, why string) {
		for _, name := range names {
			c.set(name, Skipped, why)
		}
	}

	cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	_, err := c.opts.Client.CheckHealth(cctx, &client.CheckHealthRequest{})
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		// The dependents first: a probe that sees the failure sees them skipped too.
		skip(dependent, "not checked: Temporal does not answer")
		c.set(CheckTemporal, Failing, fmt.Sprintf("Temporal at %s does not answer: %v", c.opts.Address, err))
		return
	}
	c.set(CheckTemporal, OK, "")

	msg := c.namespaceProblem(ctx)
	if ctx.Err() != nil {
		return
	}
	if msg != "" {
		skip(dependent[1:], "not checked: the namespace is missing")
		c.set(CheckNamespace, Failing, msg)
		return
	}
	c.set(CheckNamespace, OK, "")

	if c.opts.Workers {
		c.checkPollers(ctx, CheckWorkers, "")
	}
	if c.opts.Identity != "" {
		c.checkPollers(ctx, CheckWorker, c.opts.Identity)
	}
}

// namespaceProblem says what is wrong with the namespace: "" when it exists and is registered.
func (c *Checker) namespaceProblem(ctx context.Context) string {
	cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, err := c.opts.Client.WorkflowService().DescribeNamespace(cctx,
		&workflowservice.DescribeNamespaceRequest{Namespace: c.opts.Namespace})
	var notFound *serviceerror.NamespaceNotFound
	var notFound2 *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound), errors.As(err, &notFound2):
		return fmt.Sprintf("namespace %q does not exist at %s (TEMPORAL_NAMESPACE): create it, with its search attributes", c.opts.Namespace, c.opts.Address)
	case err != nil:
		return fmt.Sprintf("describe namespace %q: %v", c.opts.Namespace, err)
	}
	if s := resp.GetNamespaceInfo().GetState(); s != enumspb.NAMESPACE_STATE_REGISTERED {
		return fmt.Sprintf("namespace %q is %s", c.opts.Namespace, strings.ToLower(strings.TrimPrefix(s.String(), "NAMESPACE_STATE_")))
	}
	return ""
}

// checkPollers checks that Temporal has seen polls on the task queue, for workflow tasks and for activity tasks,
// within the poller window: by anyone, or by identity when it is given.
func (c *Checker) checkPollers(ctx context.Context, name, identity string) {
	whose := "no worker has"
	if identity != "" {
		whose = "this worker (" + identity + ") has not"
	}
	var missing []string
	for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		resp, err := c.opts.Client.DescribeTaskQueue(cctx, c.opts.TaskQueue, typ)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.set(name, Failing, fmt.Sprintf("describe task queue %q: %v", c.opts.TaskQueue, err))
			return
		}
		if !c.seen(resp.GetPollers(), identity) {
			missing = append(missing, strings.ToLower(strings.TrimPrefix(typ.String(), "TASK_QUEUE_TYPE_")))
		}
	}
	if len(missing) > 0 {
		c.set(name, Failing, fmt.Sprintf("%s polled task queue %q for %s tasks in the last %s", whose,
			c.opts.TaskQueue, strings.Join(missing, " and "), c.opts.PollerWindow))
		return
	}
	c.set(name, OK, "")
}

// seen reports whether one of the pollers polled within the window, and is identity when it is given.
func (c *Checker) seen(pollers []*taskqueuepb.PollerInfo, identity string) bool {
	for _, p := range pollers {
		if identity != "" && p.GetIdentity() != identity {
			continue
		}
		if time.Since(p.GetLastAccessTime().AsTime()) <= c.opts.PollerWindow {
			return true
		}
	}
	return false
}

// checkCodec encrypts a payload and decrypts it back: the codec is there, and its current key works.
func (c *Checker) checkCodec() {
	if c.opts.Codec == nil {
		c.set(CheckCodec, Failing, "no codec key: payloads would be written in plain text (CODEC_KEYS, CODEC_KEY_FILE or CODEC_KEY)")
		return
	}
	in := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"health"`)}
	enc, err := c.opts.Codec.Encode([]*commonpb.Payload{in})
	if err == nil && (len(enc) != 1 || bytes.Equal(enc[0].GetData(), in.GetData())) {
		err = errors.New("the payload came out unencrypted")
	}
	var dec []*commonpb.Payload
	if err == nil {
		dec, err = c.opts.Codec.Decode(enc)
	}
	if err == nil && (len(dec) != 1 || !bytes.Equal(dec[0].GetData(), in.GetData())) {
		err = errors.New("the payload did not decrypt to what was encrypted")
	}
	if err != nil {
		c.set(CheckCodec, Failing, "the codec key does not work: "+err.Error())
		return
	}
	c.set(CheckCodec, OK, "")
}

// checkProviders asks each provider, through the registry, whether it accepts our credentials.
func (c *Checker) checkProviders(ctx context.Context) {
	for _, name := range c.opts.Providers.Names() {
		check := CheckProviderPrefix + name
		checker, ok := c.opts.Providers.CredentialChecker(name)
		if !ok {
			c.set(check, NotCheckable, name+" has no call that moves no money to check its credentials with")
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		err := checker.CheckCredentials(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil:
			metrics.ProviderCredentialsOK.WithLabelValues(name).Set(1)
			c.set(check, OK, "")
		case errors.Is(err, providers.ErrCredentialsRefused):
			metrics.ProviderCredentialsOK.WithLabelValues(name).Set(0)
			c.set(check, Failing, name+" refuses our credentials: "+err.Error()+
				"; its payouts fail until they are fixed (README, Operating payoutflow: ProviderCredentialsRefused)")
		default:
			c.set(check, Unknown, name+" did not tell whether it accepts our credentials: "+err.Error())
		}
	}
}
