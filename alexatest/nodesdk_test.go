package alexatest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
)

// TestAmazonNodeSDK points Amazon's own Node SDK at the emulator and checks
// that its requests are accepted as ours are, and that it surfaces the
// emulator's 400 as a ServiceError with that status, code and message. It needs node and a folder
// holding node_modules with ask-sdk-model and ask-sdk-core, named by
// ALEXA_OOS_NODE_SDK; .ci/run installs them when npm can reach its
// registry. Without them it is skipped.
func TestAmazonNodeSDK(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("ALEXA_OOS_NODE_SDK")
	node, err := exec.LookPath("node")
	if dir == "" || err != nil {
		t.Skip("set ALEXA_OOS_NODE_SDK to a folder with node_modules/ask-sdk-model and ask-sdk-core to run")
	}
	srv := alexatest.NewServer(alexatest.Options{ClientID: "amzn1.application-oa2-client.node", ClientSecret: "nodesecret"})
	defer srv.Close()
	cmd := exec.Command(node, "testdata/node-sdk/run.js")
	cmd.Env = append(os.Environ(), "NODE_PATH="+dir+"/node_modules", "EP="+srv.URL, "CID=amzn1.application-oa2-client.node", "CSECRET=nodesecret")
	out, err := cmd.CombinedOutput()
	const invalid = `invalid: ServiceError 400 code=400 message=INVALID_REQUEST: referenceId: is required`
	if err != nil || !strings.Contains(string(out), "duplicate: 409") || !strings.Contains(string(out), invalid) || !strings.Contains(string(out), "done") {
		t.Fatalf("node SDK: %v\n%s", err, out)
	}
	evs, msgs := srv.Events(), srv.Messages()
	if len(evs) != 1 || evs[0].Request.ReferenceID != "node-sdk-1" || len(evs[0].Preview) != 1 {
		t.Errorf("events %+v", evs)
	}
	if len(msgs) != 1 || msgs[0].UserID != "amzn1.ask.account.NODE" || string(msgs[0].Data) != `{"reminder_id":"XXXX"}` || msgs[0].ExpiresAfterSeconds != 60 {
		t.Errorf("messages %+v", msgs)
	}
	if ua := evs[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "ask-node-model/") {
		t.Errorf("User-Agent %q: not the Node SDK's", ua)
	}
}
