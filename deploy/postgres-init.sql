-- Temporal keeps its own databases beside Tollgate's on the same server.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
