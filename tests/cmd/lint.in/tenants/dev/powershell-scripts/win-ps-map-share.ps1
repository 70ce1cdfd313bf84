# Map the finance share
$User = "CONTOSO\svc-map"
$Password = "Winter2026!"
net use Z: \\fs01\finance /user:$User $Password
