#!/usr/bin/env bash
# End to end on a real cluster: kind + the image + the Helm chart + examples/.
# Needs a Docker engine and the kind binary (not available on the development machines or in this
# project's CI, which test against the embedded API server instead). Usage: test/e2e/kind.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER=${CLUSTER:-simops-e2e}
IMAGE=${IMAGE:-simops:e2e}
KUBECTL=${KUBECTL:-kubectl}
HELM=${HELM:-helm}
NS=simops-system

collect_logs() {
  echo "--- collecting logs" >&2
  "$KUBECTL" -n "$NS" logs deploy/simops-controller --all-containers --tail=500 >&2 || true
  "$KUBECTL" get simops -A -o wide >&2 || true
  "$KUBECTL" get events -A --sort-by=.lastTimestamp | tail -50 >&2 || true
}
trap 'collect_logs' ERR

docker build -t "$IMAGE" .
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
kind load docker-image "$IMAGE" --name "$CLUSTER"
"$HELM" upgrade --install simops charts/simops --namespace "$NS" --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE#*:}" --set image.pullPolicy=Never \
  --set controller.replicas=2 --wait --timeout 180s
"$KUBECTL" apply -R -f examples/manifests/
for kind in simulators sandboxes machines simulationruns; do
  "$KUBECTL" wait --for=condition=Ready "$kind" --all -A --timeout=300s
done
"$KUBECTL" wait --for=condition=Ready chaosscenarios --all -A --timeout=600s
"$KUBECTL" get simops -A -o wide
echo "e2e passed"
