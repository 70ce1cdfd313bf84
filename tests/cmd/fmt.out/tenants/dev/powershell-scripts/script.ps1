Write-Host "untouched"
