-- Argo CD health check for WhatsAppChannel.commerce.wa.dev: Healthy once Ready, Progressing
-- while the operator works on it, Degraded when it needs a person.
-- BEGIN shared (the same in the health.lua of every kind of commerce.wa.dev)
-- Argo CD reads no conditions of custom resources by itself. The operator sets them
-- as kstatus (Flux) reads them: Stalled while the resource will not progress without
-- a person, Reconciling while work is in progress, Ready once the controller has
-- caught up with the spec; status.observedGeneration says which spec it was.
local function condition(obj, kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = c.reason or c.type
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

local function health(obj, summary)
  local generation = obj.metadata.generation
  if obj.status == nil or obj.status.observedGeneration == nil or
      (generation ~= nil and obj.status.observedGeneration < generation) then
    return {status = "Progressing", message = "Waiting for the controller to reconcile generation " .. tostring(generation)}
  end
  local stalled = condition(obj, "Stalled")
  if stalled ~= nil and stalled.status == "True" then
    return {status = "Degraded", message = describe(stalled)}
  end
  local reconciling = condition(obj, "Reconciling")
  if reconciling ~= nil and reconciling.status == "True" then
    return {status = "Progressing", message = describe(reconciling)}
  end
  local ready = condition(obj, "Ready")
  if ready == nil then
    return {status = "Progressing", message = "Waiting for the Ready condition"}
  end
  if ready.status ~= "True" then
    return {status = "Progressing", message = describe(ready)}
  end
  return {status = "Healthy", message = summary(obj.status)}
end
-- END shared

-- The webhook path is a credential (the only one of an unsigned channel): the
-- message never names it.
return health(obj, function(status)
  return "Receiving webhooks at the path in status.webhookPath"
end)
