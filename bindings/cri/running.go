package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RunningIDs lists the ids of the running containers with one
// ListContainers call and no status: what ctrsh top asks every refresh,
// reading a container (Container) only the first time it sees its id.
func (c *Client) RunningIDs(ctx context.Context) ([]string, error) {
	items, err := c.list(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, k := range items {
		if k.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING {
			ids = append(ids, k.GetId())
		}
	}
	return ids, nil
}
