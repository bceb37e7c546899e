CREATE TABLE `crawl_credentials` (
	`crawl_id` text NOT NULL,
	`position` integer NOT NULL,
	`key_id` text NOT NULL,
	`ciphertext` text NOT NULL,
	PRIMARY KEY(`crawl_id`, `position`),
	FOREIGN KEY (`crawl_id`) REFERENCES `crawls`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `crawl_events` (
	`crawl_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`crawl_id`, `seq`),
	FOREIGN KEY (`crawl_id`) REFERENCES `crawls`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `crawl_pages` (
	`id` text PRIMARY KEY NOT NULL,
	`crawl_id` text NOT NULL,
	`role` text NOT NULL,
	`url` text NOT NULL,
	`final_url` text NOT NULL,
	`depth` integer NOT NULL,
	`status` integer,
	`title` text NOT NULL,
	`load_ms` integer NOT NULL,
	`details` text NOT NULL,
	`screenshot_key` text,
	`error` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`crawl_id`) REFERENCES `crawls`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `crawl_pages_url_idx` ON `crawl_pages` (`crawl_id`,`role`,`url`);--> statement-breakpoint
CREATE TABLE `crawls` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`project_id` text NOT NULL,
	`run_id` text,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`scan_mode` text NOT NULL,
	`settings` text NOT NULL,
	`roles` text NOT NULL,
	`pages_visited` integer DEFAULT 0 NOT NULL,
	`pages_failed` integer DEFAULT 0 NOT NULL,
	`broken_links` integer DEFAULT 0 NOT NULL,
	`error_message` text,
	`created_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `crawls_project_idx` ON `crawls` (`project_id`,`status`,`id`);