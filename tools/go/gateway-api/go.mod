// The Gateway API release whose CRDs the lab's control planes serve and whose schemas
// govcloud render validates against (modules/govcloud/render/schemas/gateway.networking.k8s.io).
module govcloud.local/build/gateway-api

go 1.26.0

require sigs.k8s.io/gateway-api v1.4.1
